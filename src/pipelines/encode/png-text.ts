/**
 * PNG text chunks, written and read by hand: sharp can neither add a tEXt/iTXt chunk nor read one back.
 * A chunk is length (4, big-endian) · type (4) · data · CRC-32 of type + data.
 * @module
 */
import { crc32, inflateSync } from 'node:zlib'

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= SIGNATURE.length && SIGNATURE.equals(bytes.subarray(0, SIGNATURE.length))
}

/**
 * Returns a copy of `png` with a text chunk right after IHDR. tEXt holds only Latin-1, so any other text
 * goes into an uncompressed UTF-8 iTXt chunk (what Pillow, and so A1111, does too).
 */
export function insertPngText(png: Uint8Array, keyword: string, text: string): Buffer {
  const view = Buffer.from(png.buffer, png.byteOffset, png.byteLength)
  if (!isPng(view) || view.length < 33 || view.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('insertPngText: not a PNG that starts with IHDR')
  }
  const ihdrEnd = SIGNATURE.length + 12 + view.readUInt32BE(SIGNATURE.length)
  const chunk = isLatin1(text)
    ? makeChunk('tEXt', Buffer.concat([Buffer.from(`${keyword}\0`, 'latin1'), Buffer.from(text, 'latin1')]))
    : makeChunk(
        'iTXt',
        // keyword NUL · compression flag 0 · method 0 · empty language tag NUL · empty translated keyword NUL
        Buffer.concat([Buffer.from(`${keyword}\0\0\0\0\0`, 'latin1'), Buffer.from(text, 'utf8')]),
      )
  return Buffer.concat([view.subarray(0, ihdrEnd), chunk, view.subarray(ihdrEnd)])
}

/** The text stored under `keyword` in a tEXt, zTXt or iTXt chunk; null when absent or unreadable. */
export function readPngText(png: Uint8Array, keyword: string): string | null {
  const view = Buffer.from(png.buffer, png.byteOffset, png.byteLength)
  if (!isPng(view)) return null
  let offset = SIGNATURE.length
  while (offset + 12 <= view.length) {
    const length = view.readUInt32BE(offset)
    const type = view.toString('latin1', offset + 4, offset + 8)
    const dataEnd = offset + 8 + length
    if (dataEnd + 4 > view.length || type === 'IEND') return null
    const data = view.subarray(offset + 8, dataEnd)
    const text = decodeTextChunk(type, data, keyword)
    if (text !== null) return text
    offset = dataEnd + 4
  }
  return null
}

function decodeTextChunk(type: string, data: Buffer, keyword: string): string | null {
  if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') return null
  const keywordEnd = data.indexOf(0)
  if (keywordEnd === -1 || data.toString('latin1', 0, keywordEnd) !== keyword) return null
  try {
    if (type === 'tEXt') return data.toString('latin1', keywordEnd + 1)
    if (type === 'zTXt') return inflateSync(data.subarray(keywordEnd + 2)).toString('latin1')
    const compressed = data[keywordEnd + 1] === 1
    const languageEnd = data.indexOf(0, keywordEnd + 3)
    const translatedEnd = languageEnd === -1 ? -1 : data.indexOf(0, languageEnd + 1)
    if (translatedEnd === -1) return null
    const body = data.subarray(translatedEnd + 1)
    return (compressed ? inflateSync(body) : body).toString('utf8')
  } catch {
    return null
  }
}

function makeChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length)
  chunk.writeUInt32BE(data.length, 0)
  chunk.write(type, 4, 'latin1')
  data.copy(chunk, 8)
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length)
  return chunk
}

function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false
  return true
}
