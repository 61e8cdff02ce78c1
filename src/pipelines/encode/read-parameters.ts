/**
 * Reads the generation parameters back out of a PNG, JPEG or WebP file, whoever wrote it (Pigment, A1111,
 * Forge): the PNG `parameters` text chunk, or the EXIF UserComment.
 * @module
 */
import { readUserComment } from './exif-user-comment.js'
import { type GenerationParameters, PARAMETERS_KEYWORD, parseParameters } from './generation-parameters.js'
import { isJpeg, readJpegExif } from './jpeg-exif.js'
import { isPng, readPngText } from './png-text.js'
import { isWebp, readWebpExif } from './webp-exif.js'

/** The embedded infotext, or null when the file carries none (or is not a PNG, JPEG or WebP at all). */
export function readParametersText(bytes: Uint8Array): string | null {
  try {
    if (isPng(bytes)) return readPngText(bytes, PARAMETERS_KEYWORD)
    const exif = isJpeg(bytes) ? readJpegExif(bytes) : isWebp(bytes) ? readWebpExif(bytes) : null
    return exif === null ? null : readUserComment(exif)
  } catch {
    // Truncated or hostile files: a bounds check we missed must not crash the caller.
    return null
  }
}

/** The embedded generation parameters; null when absent, unreadable or not an A1111-style infotext. */
export function readParameters(bytes: Uint8Array): GenerationParameters | null {
  const text = readParametersText(bytes)
  return text === null ? null : parseParameters(text)
}
