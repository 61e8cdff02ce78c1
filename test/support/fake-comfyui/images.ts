// The fake's "disk" (input and output folders, kept across restarts as files on disk are) and its pixels:
// every saved image is a solid colour derived from the sampler's seed and the image's place in the batch, so a
// test can tell which seed made which image; previews are the JPEG the real ComfyUI sent.

import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'

export interface Rgb {
  r: number
  g: number
  b: number
}

/**
 * The colour of batch element `batchIndex` sampled with `seed`. One sampler run with batch_size n gives
 * fakeImageColor(seed, 0..n-1), which differs from n runs with seeds seed..seed+n-1 (fakeImageColor(seed + i, 0)),
 * as in ComfyUI, where a batch shares one noise generator.
 */
export function fakeImageColor(seed: number, batchIndex = 0): Rgb {
  let h = 0x811c9dc5
  for (const ch of `${seed}:${batchIndex}`) {
    h ^= ch.charCodeAt(0)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  h ^= h >>> 13
  h = Math.imul(h, 0x5bd1e995) >>> 0
  h ^= h >>> 15
  return { r: h & 0xff, g: (h >>> 8) & 0xff, b: (h >>> 16) & 0xff }
}

export function colorFromInt(color: number): Rgb {
  return { r: (color >> 16) & 0xff, g: (color >> 8) & 0xff, b: color & 0xff }
}

/** One image of an IMAGE batch: a solid colour, or pixels from an input file. */
export interface Frame {
  width: number
  height: number
  color?: Rgb
  source?: Buffer
}

export async function encodePng(frame: Frame): Promise<Buffer> {
  const width = Math.max(1, Math.round(frame.width))
  const height = Math.max(1, Math.round(frame.height))
  const image = frame.source
    ? sharp(frame.source).removeAlpha().resize(width, height, { fit: 'fill' })
    : sharp({ create: { width, height, channels: 3, background: frame.color ?? { r: 0, g: 0, b: 0 } } })
  return image.png({ compressionLevel: 4 }).toBuffer()
}

export async function imageSize(data: Buffer): Promise<{ width: number; height: number }> {
  const meta = await sharp(data).metadata()
  return { width: meta.width ?? 1, height: meta.height ?? 1 }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(data: Buffer): number {
  let c = 0xffffffff
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** Adds tEXt chunks after IHDR, as PIL's PngInfo.add_text does for SaveImage's "prompt" and "workflow". */
export function withTextChunks(png: Buffer, texts: Record<string, string>): Buffer {
  const ihdrEnd = 8 + 4 + 4 + 13 + 4
  const chunks = Object.entries(texts).map(([keyword, text]) => {
    const body = Buffer.concat([Buffer.from('tEXt', 'latin1'), Buffer.from(`${keyword}\0${text}`, 'latin1')])
    return Buffer.concat([u32(body.length - 4), body, u32(crc32(body))])
  })
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)])
}

const recordedPreview = readFileSync(fileURLToPath(new URL('preview-frame.bin', import.meta.url)))

/** The JPEG of a preview: the one the real ComfyUI 0.3.64 sent (latent2rgb, 4-step SD 1.5 run). */
export const previewJpeg: Buffer = recordedPreview.subarray(8)

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

/** Binary event 1 (PREVIEW_IMAGE): uint32 1, uint32 image type (1 JPEG), the image. */
export function previewFrame(): Buffer {
  return Buffer.concat([u32(1), u32(1), previewJpeg])
}

/** Binary event 4 (PREVIEW_IMAGE_WITH_METADATA): uint32 4, uint32 JSON length, the JSON, the image. */
export function previewFrameWithMetadata(metadata: Record<string, unknown>): Buffer {
  const json = Buffer.from(JSON.stringify({ ...metadata, image_type: 'image/jpeg' }))
  return Buffer.concat([u32(4), u32(json.length), json, previewJpeg])
}

export type FolderType = 'input' | 'output' | 'temp'

/** The input/output/temp folders, in memory. Keys are normalised subfolder + file name. */
export class Folders {
  private readonly files = new Map<string, Buffer>()

  private key(type: FolderType, subfolder: string, filename: string): string {
    return `${type}:${path.posix.join(subfolder || '.', filename)}`
  }

  get(type: FolderType, subfolder: string, filename: string): Buffer | undefined {
    return this.files.get(this.key(type, subfolder, filename))
  }

  put(type: FolderType, subfolder: string, filename: string, data: Buffer): void {
    this.files.set(this.key(type, subfolder, filename), data)
  }

  /** file names at the top of the input folder (what LoadImage lists) */
  inputFiles(): string[] {
    return [...this.files.keys()]
      .filter((k) => k.startsWith('input:') && !k.slice(6).includes('/'))
      .map((k) => k.slice(6))
  }

  /** folder_paths.get_save_image_path's counter: one past the highest `<prefix>_NNNNN_` already there */
  nextCounter(subfolder: string, prefix: string): number {
    const head = this.key('output', subfolder, `${prefix}_`)
    let max = 0
    for (const k of this.files.keys()) {
      if (!k.startsWith(head)) continue
      const m = /^(\d{5,})/.exec(k.slice(head.length))
      if (m) max = Math.max(max, Number(m[1]))
    }
    return max + 1
  }
}
