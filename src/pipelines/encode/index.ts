/**
 * Output encoding: RGB → PNG / JPEG / WebP bytes carrying the generation parameters, and reading them back.
 * @module
 */
export { DEFAULT_QUALITY, type EncodeOptions, encodeImage } from './encode-image.js'
export {
  formatParameters,
  type GenerationParameters,
  PARAMETERS_KEYWORD,
  parseParameters,
} from './generation-parameters.js'
export { readParameters, readParametersText } from './read-parameters.js'
