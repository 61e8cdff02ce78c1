/**
 * A minimal EXIF (TIFF) block holding one UserComment, and a reader for the UserComment of any EXIF block.
 * sharp can write UserComment only as ASCII, which mangles non-ASCII prompts, so the block is built here.
 *
 * Layout written (big-endian "MM", as piexif writes for A1111):
 * header (8) · IFD0 with one entry: ExifIFD pointer (18) · ExifIFD with ExifVersion and UserComment (30) ·
 * UserComment value: the 8-byte charset "UNICODE\0" then UTF-16BE text.
 * @module
 */

const TAG_EXIF_IFD_POINTER = 0x8769
const TAG_EXIF_VERSION = 0x9000
const TAG_USER_COMMENT = 0x9286
const TYPE_UNDEFINED = 7
const TYPE_LONG = 4
const UNICODE_PREFIX = Buffer.from('UNICODE\0', 'latin1')

const IFD0_OFFSET = 8
const EXIF_IFD_OFFSET = IFD0_OFFSET + 2 + 12 + 4
const USER_COMMENT_OFFSET = EXIF_IFD_OFFSET + 2 + 2 * 12 + 4

export function buildUserCommentExif(text: string): Buffer {
  const comment = Buffer.concat([UNICODE_PREFIX, encodeUtf16BE(text)])
  const tiff = Buffer.alloc(USER_COMMENT_OFFSET + comment.length)
  tiff.write('MM', 0, 'latin1')
  tiff.writeUInt16BE(42, 2)
  tiff.writeUInt32BE(IFD0_OFFSET, 4)

  tiff.writeUInt16BE(1, IFD0_OFFSET)
  writeEntry(tiff, IFD0_OFFSET + 2, TAG_EXIF_IFD_POINTER, TYPE_LONG, 1, EXIF_IFD_OFFSET)
  tiff.writeUInt32BE(0, IFD0_OFFSET + 14)

  tiff.writeUInt16BE(2, EXIF_IFD_OFFSET)
  writeEntry(tiff, EXIF_IFD_OFFSET + 2, TAG_EXIF_VERSION, TYPE_UNDEFINED, 4, 0)
  tiff.write('0232', EXIF_IFD_OFFSET + 10, 'latin1') // a 4-byte value sits in the offset field itself
  writeEntry(
    tiff,
    EXIF_IFD_OFFSET + 14,
    TAG_USER_COMMENT,
    TYPE_UNDEFINED,
    comment.length,
    USER_COMMENT_OFFSET,
  )
  tiff.writeUInt32BE(0, EXIF_IFD_OFFSET + 26)

  comment.copy(tiff, USER_COMMENT_OFFSET)
  return tiff
}

/** The UserComment text of a TIFF-structured EXIF block; null when there is none or the block is malformed. */
export function readUserComment(tiff: Uint8Array): string | null {
  const view = Buffer.from(tiff.buffer, tiff.byteOffset, tiff.byteLength)
  if (view.length < 8) return null
  const order = view.toString('latin1', 0, 2)
  if (order !== 'MM' && order !== 'II') return null
  const bigEndian = order === 'MM'
  const u16 = (at: number) => (bigEndian ? view.readUInt16BE(at) : view.readUInt16LE(at))
  const u32 = (at: number) => (bigEndian ? view.readUInt32BE(at) : view.readUInt32LE(at))

  const findEntry = (ifdOffset: number, tag: number): number | null => {
    if (ifdOffset + 2 > view.length) return null
    const count = u16(ifdOffset)
    for (let i = 0; i < count; i++) {
      const entry = ifdOffset + 2 + i * 12
      if (entry + 12 > view.length) return null
      if (u16(entry) === tag) return entry
    }
    return null
  }

  const pointer = findEntry(u32(4), TAG_EXIF_IFD_POINTER)
  if (pointer === null) return null
  const entry = findEntry(u32(pointer + 8), TAG_USER_COMMENT)
  if (entry === null) return null
  const length = u32(entry + 4)
  const start = length <= 4 ? entry + 8 : u32(entry + 8)
  if (length < 8 || start + length > view.length) return null
  return decodeComment(view.subarray(start, start + length), bigEndian)
}

/** Decodes by the 8-byte charset header; UTF-16 without a byte-order mark follows the TIFF byte order. */
function decodeComment(value: Buffer, bigEndian: boolean): string {
  const header = value.subarray(0, 8)
  const body = value.subarray(8)
  if (header.equals(UNICODE_PREFIX)) {
    if (body[0] === 0xfe && body[1] === 0xff) return decodeUtf16BE(body.subarray(2))
    if (body[0] === 0xff && body[1] === 0xfe) return body.subarray(2).toString('utf16le')
    return bigEndian ? decodeUtf16BE(body) : body.toString('utf16le')
  }
  // "ASCII\0\0\0" or an undefined charset: read as UTF-8, a superset of ASCII, as A1111's fallback does.
  return body.toString('utf8').replace(/\0+$/, '')
}

function writeEntry(tiff: Buffer, at: number, tag: number, type: number, count: number, value: number): void {
  tiff.writeUInt16BE(tag, at)
  tiff.writeUInt16BE(type, at + 2)
  tiff.writeUInt32BE(count, at + 4)
  tiff.writeUInt32BE(value, at + 8)
}

function encodeUtf16BE(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16()
}

function decodeUtf16BE(bytes: Buffer): string {
  const even = bytes.subarray(0, bytes.length - (bytes.length % 2))
  return Buffer.from(even).swap16().toString('utf16le')
}
