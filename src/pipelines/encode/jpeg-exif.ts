/**
 * EXIF in JPEG: an APP1 segment (FF E1, 2-byte big-endian length counting itself) whose payload is
 * "Exif\0\0" followed by a TIFF block.
 * @module
 */

const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1')
const MAX_SEGMENT_PAYLOAD = 0xffff - 2

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff
}

/**
 * Returns a copy of `jpeg` with an Exif APP1 segment after SOI, or after a JFIF APP0 when there is one
 * (JFIF wants APP0 first). Throws a RangeError naming `parameters` when the block cannot fit in a segment.
 */
export function insertJpegExif(jpeg: Uint8Array, tiff: Uint8Array): Buffer {
  const view = Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength)
  if (!isJpeg(view)) throw new Error('insertJpegExif: not a JPEG')
  const payloadLength = EXIF_HEADER.length + tiff.length
  if (payloadLength > MAX_SEGMENT_PAYLOAD) {
    throw new RangeError(
      `parameters: ${tiff.length} bytes of EXIF do not fit in one JPEG APP1 segment (64 KiB)`,
    )
  }
  const segment = Buffer.alloc(4 + payloadLength)
  segment.writeUInt16BE(0xffe1, 0)
  segment.writeUInt16BE(2 + payloadLength, 2)
  EXIF_HEADER.copy(segment, 4)
  segment.set(tiff, 4 + EXIF_HEADER.length)

  let insertAt = 2
  if (view[2] === 0xff && view[3] === 0xe0 && view.length >= 6) insertAt = 4 + view.readUInt16BE(4)
  return Buffer.concat([view.subarray(0, insertAt), segment, view.subarray(insertAt)])
}

/** The TIFF block of the first Exif APP1 segment; null when there is none or the markers are malformed. */
export function readJpegExif(jpeg: Uint8Array): Uint8Array | null {
  const view = Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength)
  if (!isJpeg(view)) return null
  let offset = 2
  while (offset + 4 <= view.length) {
    if (view[offset] !== 0xff) return null
    const marker = view[offset + 1]
    if (marker === 0xff) {
      offset += 1 // fill byte before a marker
      continue
    }
    // Start of scan or end of image: metadata segments all come before the entropy-coded data.
    if (marker === 0xda || marker === 0xd9) return null
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      offset += 2 // stand-alone markers carry no length
      continue
    }
    const length = view.readUInt16BE(offset + 2)
    const payloadStart = offset + 4
    const payloadEnd = offset + 2 + length
    if (length < 2 || payloadEnd > view.length) return null
    if (
      marker === 0xe1 &&
      view.subarray(payloadStart, payloadStart + EXIF_HEADER.length).equals(EXIF_HEADER)
    ) {
      return view.subarray(payloadStart + EXIF_HEADER.length, payloadEnd)
    }
    offset = payloadEnd
  }
  return null
}
