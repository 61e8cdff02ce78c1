/**
 * EXIF in WebP: an "EXIF" RIFF chunk holding a TIFF block, which the extended format requires to be announced
 * by the EXIF flag of a leading VP8X chunk. sharp writes simple (VP8 / VP8L only) files when it has no
 * metadata to add, so a VP8X chunk is made when missing.
 * Chunk: FourCC · 4-byte little-endian size · data · a pad byte when the size is odd.
 * @module
 */

const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1')
const VP8X_EXIF_FLAG = 0x08
const VP8X_ALPHA_FLAG = 0x10

interface Chunk {
  readonly fourCC: string
  /** Chunk bytes including header and padding. */
  readonly bytes: Buffer
  readonly data: Buffer
}

export function isWebp(bytes: Uint8Array): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return (
    view.length >= 12 && view.toString('latin1', 0, 4) === 'RIFF' && view.toString('latin1', 8, 12) === 'WEBP'
  )
}

/** Returns a copy of `webp` carrying `tiff` in an EXIF chunk. `canvas` is the image size, for a new VP8X. */
export function insertWebpExif(
  webp: Uint8Array,
  tiff: Uint8Array,
  canvas: { readonly width: number; readonly height: number },
): Buffer {
  const chunks = readChunks(webp)
  if (chunks === null || chunks.length === 0) throw new Error('insertWebpExif: not a WebP file')
  const kept = chunks.filter((chunk) => chunk.fourCC !== 'EXIF')
  const first = kept[0]
  const vp8x = first.fourCC === 'VP8X' ? Buffer.from(first.bytes) : makeVp8x(canvas, hasAlpha(first))
  vp8x[8] |= VP8X_EXIF_FLAG
  const body = first.fourCC === 'VP8X' ? kept.slice(1) : kept
  // The container spec orders metadata as image data, then EXIF, then XMP.
  const xmpAt = body.findIndex((chunk) => chunk.fourCC === 'XMP ')
  const splitAt = xmpAt === -1 ? body.length : xmpAt
  const parts = [
    vp8x,
    ...body.slice(0, splitAt).map((c) => c.bytes),
    makeChunk('EXIF', Buffer.from(tiff.buffer, tiff.byteOffset, tiff.byteLength)),
    ...body.slice(splitAt).map((c) => c.bytes),
  ]
  const payload = Buffer.concat(parts)
  const header = Buffer.alloc(12)
  header.write('RIFF', 0, 'latin1')
  header.writeUInt32LE(4 + payload.length, 4)
  header.write('WEBP', 8, 'latin1')
  return Buffer.concat([header, payload])
}

/** The TIFF block of the EXIF chunk; null when absent or the file is malformed. */
export function readWebpExif(webp: Uint8Array): Uint8Array | null {
  const exif = readChunks(webp)?.find((chunk) => chunk.fourCC === 'EXIF')
  if (exif === undefined) return null
  // Some writers keep the JPEG-style "Exif\0\0" prefix inside the chunk.
  const prefixed = exif.data.subarray(0, EXIF_HEADER.length).equals(EXIF_HEADER)
  return prefixed ? exif.data.subarray(EXIF_HEADER.length) : exif.data
}

function readChunks(webp: Uint8Array): Chunk[] | null {
  const view = Buffer.from(webp.buffer, webp.byteOffset, webp.byteLength)
  if (!isWebp(view)) return null
  const end = Math.min(view.length, 8 + view.readUInt32LE(4))
  const chunks: Chunk[] = []
  let offset = 12
  while (offset + 8 <= end) {
    const size = view.readUInt32LE(offset + 4)
    const dataEnd = offset + 8 + size
    if (dataEnd > end) return null
    const next = Math.min(end, dataEnd + (size % 2))
    chunks.push({
      fourCC: view.toString('latin1', offset, offset + 4),
      bytes: view.subarray(offset, next),
      data: view.subarray(offset + 8, dataEnd),
    })
    offset = next
  }
  return chunks
}

function makeChunk(fourCC: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(8 + data.length + (data.length % 2))
  chunk.write(fourCC, 0, 'latin1')
  chunk.writeUInt32LE(data.length, 4)
  data.copy(chunk, 8)
  return chunk
}

function makeVp8x(canvas: { readonly width: number; readonly height: number }, alpha: boolean): Buffer {
  const data = Buffer.alloc(10)
  data[0] = alpha ? VP8X_ALPHA_FLAG : 0
  data.writeUIntLE(canvas.width - 1, 4, 3)
  data.writeUIntLE(canvas.height - 1, 7, 3)
  return makeChunk('VP8X', data)
}

/** Lossless (VP8L) streams carry an alpha-is-used bit in their header; lossy VP8 alone has no alpha. */
function hasAlpha(chunk: Chunk): boolean {
  if (chunk.fourCC !== 'VP8L' || chunk.data.length < 5) return false
  return (chunk.data.readUInt32LE(1) & (1 << 28)) !== 0
}
