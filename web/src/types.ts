/**
 * The API's shapes, straight from the server's TypeBox schemas: the page is typed against what the routes
 * validate and answer, so a renamed field breaks the build instead of the page.
 * @module
 */
export type {
  AssetBody as Asset,
  AssetListBody as AssetList,
  CallerBody as Caller,
  GenerationBody,
  JobBody as Job,
  ModelBody as Model,
  ModelListBody as ModelList,
  SamplerListBody as SamplerList,
} from '../../src/api/native/schema.js'
