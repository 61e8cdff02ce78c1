/**
 * Shared setup of the dialect end-to-end tests: the real `pigment serve` (child process, SQLite and local disk
 * in a temp dir, the tiny random-weight SD model on the CPU) with an API key and the aliases the seed examples
 * use, plus a look inside the images it returns (format and size from the bytes, the embedded parameters).
 * @module
 */
import sharp from 'sharp'
import { readParameters } from '../../src/pipelines/encode/read-parameters.js'
import { makeTestModel, type ServerProcess, startServer, tempDir } from '../integration/server-harness.js'

export const API_KEY = 'pigment-e2e-key-0123456789'

/** Names the seeds' examples use for their model, all aliases of the tiny test model. */
export const ALIASES = ['chroma', 'qwen-image', 'dall-e-3']

export async function startDialectServer(extraArgs: readonly string[] = []): Promise<ServerProcess> {
  const model = await makeTestModel('tiny-sd')
  return startServer([
    '--data-dir',
    tempDir('e2e'),
    '--model',
    model,
    '--api-key',
    API_KEY,
    ...ALIASES.flatMap((alias) => ['--alias', `${alias}=tiny-sd`]),
    ...extraArgs,
  ])
}

export interface ImageInfo {
  readonly format: string | undefined
  readonly width: number | undefined
  readonly height: number | undefined
  /** Steps, seed, cfg … as written into the file by Pigment. */
  readonly parameters: ReturnType<typeof readParameters>
}

/** What the bytes really are, read from the bytes themselves. */
export async function imageInfo(bytes: Uint8Array): Promise<ImageInfo> {
  const metadata = await sharp(bytes).metadata()
  return {
    format: metadata.format,
    width: metadata.width,
    height: metadata.height,
    parameters: readParameters(bytes),
  }
}

export async function download(url: string): Promise<Uint8Array> {
  const response = await fetch(url)
  if (!response.ok) throw new Error(`GET ${url} → ${response.status}`)
  return new Uint8Array(await response.arrayBuffer())
}
