/**
 * Output encoding: RGB → PNG / JPEG / WebP bytes carrying the generation parameters, and reading them back.
 * @module
 */
export { DEFAULT_QUALITY, type EncodeOptions, encodeImage } from './encode-image.js'
export {
  formatParameters,
  type GenerationParameters,
  NATIVE_SIZE_KEY,
  PARAMETERS_KEYWORD,
  parseParameters,
  RESIZE_KEY,
} from './generation-parameters.js'
export { readParameters, readParametersText } from './read-parameters.js'
