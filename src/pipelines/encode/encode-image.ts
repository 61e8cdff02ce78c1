/**
 * Turns a decoded RGB image into PNG, JPEG or WebP bytes with sharp, embedding the generation parameters so
 * the image can be reproduced: a `parameters` text chunk in PNG, EXIF UserComment in JPEG and WebP (where
 * AUTOMATIC1111 puts them too).
 * @module
 */
import sharp from 'sharp'
import type { OutputFormat } from '../../core/generation-request.js'
import type { RawImage } from '../pipeline.js'
import { buildUserCommentExif } from './exif-user-comment.js'
import { formatParameters, type GenerationParameters, PARAMETERS_KEYWORD } from './generation-parameters.js'
import { insertJpegExif } from './jpeg-exif.js'
import { insertPngText } from './png-text.js'
import { insertWebpExif } from './webp-exif.js'

export interface EncodeOptions {
  readonly format: OutputFormat
  /** 1–100, for JPEG and WebP; PNG is lossless and ignores it. */
  readonly quality?: number
  /** Written into the image when given. */
  readonly parameters?: GenerationParameters
}

export const DEFAULT_QUALITY = 90
const FORMATS: readonly OutputFormat[] = ['png', 'jpeg', 'webp']

export async function encodeImage(raw: RawImage, options: EncodeOptions): Promise<Buffer> {
  const { format, quality = DEFAULT_QUALITY, parameters } = options
  if (!FORMATS.includes(format)) {
    throw new RangeError(`format must be one of ${FORMATS.join(', ')}; got ${JSON.stringify(format)}`)
  }
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`quality must be an integer from 1 to 100; got ${quality}`)
  }
  if (raw.rgb.length !== raw.width * raw.height * 3) {
    throw new RangeError(
      `rgb holds ${raw.rgb.length} bytes; ${raw.width}x${raw.height} RGB needs ${raw.width * raw.height * 3}`,
    )
  }
  const image = sharp(raw.rgb, { raw: { width: raw.width, height: raw.height, channels: 3 } })
  const text = parameters === undefined ? null : formatParameters(parameters)

  if (format === 'png') {
    const png = await image.png().toBuffer()
    return text === null ? png : insertPngText(png, PARAMETERS_KEYWORD, text)
  }
  if (format === 'jpeg') {
    const jpeg = await image.jpeg({ quality }).toBuffer()
    return text === null ? jpeg : insertJpegExif(jpeg, buildUserCommentExif(text))
  }
  const webp = await image.webp({ quality }).toBuffer()
  return text === null ? webp : insertWebpExif(webp, buildUserCommentExif(text), raw)
}
