/**
 * Validates Scenario responses against the schemas of Scenario's own OpenAPI 3.0 document (the subset copied
 * into `test/fixtures/scenario/openapi-subset.json` by `tools/scenario/extract-schemas.ts`). OpenAPI 3.0 is
 * not quite JSON Schema, so the schemas are converted first: `nullable` becomes a `null` type and boolean
 * `exclusiveMinimum` / `exclusiveMaximum` become numbers. By default every object that lists its properties
 * is closed, so a response carrying a field Scenario does not define fails too.
 * Test-only (`src/**\/testing` is not built).
 * @module
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'

const SUBSET_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '..',
  'test',
  'fixtures',
  'scenario',
  'openapi-subset.json',
)
const DOCUMENT_ID = 'scenario-openapi'

/** Error bodies by status; the document defines them but attaches them to no operation. */
const ERROR_SCHEMA_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'BadRequestResponse',
  401: 'UnauthorizedResponse',
  403: 'ForbiddenResponse',
  404: 'NotFoundResponse',
  429: 'TooManyRequests',
  500: 'InternalServerErrorResponse',
  501: 'NotImplementedResponse',
  503: 'ServiceUnavailableResponse',
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

interface Operation {
  readonly responses: Readonly<Record<string, { readonly content?: Record<string, { schema?: Json }> }>>
}

interface Subset {
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>
  readonly components: { readonly schemas: Readonly<Record<string, Json>> }
}

export function loadSubset(): Subset {
  return JSON.parse(readFileSync(SUBSET_PATH, 'utf8')) as Subset
}

function isObject(value: Json): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** OpenAPI 3.0 schema → JSON Schema (draft-07), optionally closing objects that list their properties. */
export function toJsonSchema(schema: Json, closeObjects: boolean): Json {
  if (Array.isArray(schema)) return schema.map((item) => toJsonSchema(item, closeObjects))
  if (!isObject(schema)) return schema
  const out: { [key: string]: Json } = {}
  for (const [key, value] of Object.entries(schema)) {
    // `properties`, `enum` and `required` hold names and values, not schemas: copy their keys as they are.
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, item]) => [name, toJsonSchema(item, closeObjects)]),
      )
    } else if (key === 'enum' || key === 'required' || key === 'default' || key === 'example') {
      out[key] = value
    } else {
      out[key] = toJsonSchema(value, closeObjects)
    }
  }
  for (const bound of ['Minimum', 'Maximum'] as const) {
    const flag = out[`exclusive${bound}`]
    if (typeof flag === 'boolean') {
      const limit = out[bound.toLowerCase()]
      delete out[`exclusive${bound}`]
      if (flag && typeof limit === 'number') {
        out[`exclusive${bound}`] = limit
        delete out[bound.toLowerCase()]
      }
    }
  }
  if (out.nullable === true) {
    delete out.nullable
    if (typeof out.type === 'string') out.type = [out.type, 'null']
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null]
  }
  const listsProperties = isObject(out.properties ?? null) && Object.keys(out.properties as object).length > 0
  if (closeObjects && listsProperties && out.additionalProperties === undefined) {
    out.additionalProperties = false
  }
  return out
}

export interface ScenarioValidator {
  /** Errors of `body` against `components.schemas[name]`; empty when valid. */
  errors(schemaName: string, body: unknown): ErrorObject[]
  /** The schema name the document gives the response of `method path` with `status`. */
  responseSchemaName(method: string, path: string, status: number): string
  /** Throws a readable error unless `body` is what the document says `method path` answers with `status`. */
  assertResponse(method: string, path: string, status: number, body: unknown): void
}

type AddFormats = (ajv: Ajv) => Ajv
const addFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ??
  (addFormatsModule as unknown as AddFormats)

export function createScenarioValidator(
  options: { readonly closeObjects?: boolean } = {},
): ScenarioValidator {
  const subset = loadSubset()
  const ajv = new Ajv({ strict: false, allErrors: true })
  addFormats(ajv)
  const schemas = Object.fromEntries(
    Object.entries(subset.components.schemas).map(([name, schema]) => [
      name,
      toJsonSchema(schema, options.closeObjects ?? true),
    ]),
  )
  ajv.addSchema({ $id: DOCUMENT_ID, components: { schemas } })
  const compiled = new Map<string, ValidateFunction>()

  function validatorFor(name: string): ValidateFunction {
    let validate = compiled.get(name)
    if (validate === undefined) {
      if (!(name in schemas)) throw new Error(`Scenario's document has no schema ${name}`)
      validate = ajv.getSchema(`${DOCUMENT_ID}#/components/schemas/${name}`)
      if (validate === undefined) throw new Error(`cannot compile schema ${name}`)
      compiled.set(name, validate)
    }
    return validate
  }

  function responseSchemaName(method: string, path: string, status: number): string {
    if (status >= 400) {
      return (
        ERROR_SCHEMA_BY_STATUS[status] ??
        (status < 500 ? 'BadRequestResponse' : 'InternalServerErrorResponse')
      )
    }
    const operation = subset.paths[path]?.[method.toLowerCase()]
    if (operation === undefined) throw new Error(`Scenario's document has no ${method} ${path}`)
    const schema = operation.responses[String(status)]?.content?.['application/json']?.schema
    const ref = isObject(schema ?? null) ? (schema as { $ref?: Json }).$ref : undefined
    if (typeof ref !== 'string') throw new Error(`${method} ${path} documents no JSON response for ${status}`)
    return ref.slice(ref.lastIndexOf('/') + 1)
  }

  return {
    errors(schemaName, body) {
      const validate = validatorFor(schemaName)
      return validate(body) ? [] : [...(validate.errors ?? [])]
    },
    responseSchemaName,
    assertResponse(method, path, status, body) {
      const name = responseSchemaName(method, path, status)
      const validate = validatorFor(name)
      if (validate(body)) return
      const problems = (validate.errors ?? [])
        .slice(0, 8)
        .map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`)
      throw new Error(
        `${method} ${path} → ${status} does not match ${name}:\n  ${problems.join('\n  ')}\nbody: ${JSON.stringify(body).slice(0, 600)}`,
      )
    },
  }
}

const ID_ROUTES: readonly (readonly [RegExp, string])[] = [
  [/^\/jobs\/[^/]+\/action$/, '/jobs/{jobId}/action'],
  [/^\/jobs\/[^/]+$/, '/jobs/{jobId}'],
  [/^\/assets\/[^/]+$/, '/assets/{assetId}'],
  [/^\/models\/[^/]+$/, '/models/{modelId}'],
]

/** `/scenario/v1/jobs/01h…?x=1` → `/jobs/{jobId}`: the document's path template of a request URL. */
export function specPathOf(url: string, prefix = '/scenario/v1'): string {
  const path = new URL(url, 'http://x').pathname
  const local = path.startsWith(prefix) ? path.slice(prefix.length) : path
  return ID_ROUTES.find(([pattern]) => pattern.test(local))?.[1] ?? local
}
