import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { HubError } from './hub-error.js'
import { type PullOptions, type PullProgress, pullModel } from './pull-model.js'
import { type FakeHub, type FakeRepo, startFakeHub } from './testing/fake-hub.js'

const COMMIT = '1234567890abcdef1234567890abcdef12345678'
const UNET = randomBytes(300_000)
const REPO: FakeRepo = {
  commit: COMMIT,
  files: {
    '.gitattributes': { content: Buffer.from('*.onnx filter=lfs\n') },
    'README.md': { content: Buffer.from('# tiny\n') },
    'model_index.json': { content: Buffer.from('{"_class_name":"OnnxStableDiffusionPipeline"}') },
    'unet/model.onnx': { content: UNET, lfs: true },
    'unet/model.onnx_data': { content: randomBytes(50_000), lfs: true },
    'tokenizer/vocab.json': { content: Buffer.from('{"a":0,"b":1}') },
    'tokenizer/merges.txt': { content: Buffer.from('#version: 0.2\na b\n') },
    'text_encoder/spiece.model': { content: randomBytes(1000), lfs: true },
    'unet/diffusion_pytorch_model.safetensors': { content: randomBytes(2000), lfs: true },
  },
}
const ONNX_FILES = [
  'model_index.json',
  'text_encoder/spiece.model',
  'tokenizer/merges.txt',
  'tokenizer/vocab.json',
  'unet/model.onnx',
  'unet/model.onnx_data',
]

let hub: FakeHub
let dest: string

beforeEach(async () => {
  vi.stubEnv('HF_TOKEN', '')
  vi.stubEnv('HF_ENDPOINT', '')
  dest = await mkdtemp(join(tmpdir(), 'pigment-pull-'))
})

afterEach(async () => {
  vi.unstubAllEnvs()
  await hub?.close()
  await rm(dest, { recursive: true, force: true })
})

async function start(repos: Record<string, FakeRepo> = { 'acme/tiny': REPO }, blobs = true): Promise<void> {
  hub = await startFakeHub({ repos, blobs, treePageSize: 3 })
}

function pull(extra: Partial<PullOptions> = {}) {
  return pullModel({ repo: 'acme/tiny', dest, endpoint: hub.endpoint, ...extra })
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort()
}

/** Resolves once the client has stored `bytes` bytes of `path`'s part file: then the server may cut it off. */
async function partReaches(path: string, bytes: number): Promise<void> {
  const part = join(dest, `${path}.part`)
  while (((await stat(part).catch(() => null))?.size ?? 0) < bytes) await new Promise((r) => setTimeout(r, 5))
}

function resolveRequests(): string[] {
  return hub.requests.filter((r) => r.server === 'hub' && r.path.includes('/resolve/')).map((r) => r.path)
}

describe('pullModel', () => {
  it('pulls the files an ONNX model needs, byte for byte, pinned to the commit', async () => {
    await start()
    const events: PullProgress[] = []
    const result = await pull({ onProgress: (event) => events.push(event) })

    expect(await listFiles(dest)).toEqual(ONNX_FILES)
    for (const path of ONNX_FILES)
      expect((await readFile(join(dest, path))).equals(REPO.files[path].content)).toBe(true)
    expect(result.commit).toBe(COMMIT)
    expect(result.files.map((f) => f.outcome)).toEqual(ONNX_FILES.map(() => 'downloaded'))
    expect(resolveRequests().every((path) => path.includes(`/resolve/${COMMIT}/`))).toBe(true)

    const total = ONNX_FILES.reduce((sum, path) => sum + REPO.files[path].content.length, 0)
    const last = events[events.length - 1]
    expect(last).toMatchObject({ bytes: total, total, fileIndex: ONNX_FILES.length - 1, state: 'done' })
    expect(events.some((e) => e.file === 'unet/model.onnx' && e.state === 'downloading')).toBe(true)
  })

  it('keeps only files matching --include patterns', async () => {
    await start()
    await pull({ include: ['unet/*', 'README.md'] })
    expect(await listFiles(dest)).toEqual([
      'README.md',
      'unet/diffusion_pytorch_model.safetensors',
      'unet/model.onnx',
      'unet/model.onnx_data',
    ])
  })

  it('fails clearly when no file matches', async () => {
    await start()
    await expect(pull({ include: ['*.gguf'] })).rejects.toThrow(/no file of acme\/tiny@main matches \*\.gguf/)
  })

  it('resumes an interrupted download with a Range request', async () => {
    await start()
    hub.interruptOnce('unet/model.onnx', 120_000, () => partReaches('unet/model.onnx', 120_000))
    const first = pull({ retries: 0 })
    await expect(first).rejects.toThrow(HubError)
    await expect(first).rejects.toThrow(/unet\/model\.onnx broke at byte 120000.*run again to resume/)
    const partSize = (await stat(join(dest, 'unet/model.onnx.part'))).size
    expect(partSize).toBe(120_000)

    await pull({ retries: 0 })
    expect((await readFile(join(dest, 'unet/model.onnx'))).equals(UNET)).toBe(true)
    expect(hub.requests.some((r) => r.server === 'cdn' && r.range === `bytes=${partSize}-`)).toBe(true)
    expect((await listFiles(dest)).some((path) => path.endsWith('.part'))).toBe(false)
  })

  it('retries a broken connection within one pull, resuming where it broke', async () => {
    await start()
    hub.interruptOnce('unet/model.onnx', 100_000, () => partReaches('unet/model.onnx', 100_000))
    await pull()
    expect((await readFile(join(dest, 'unet/model.onnx'))).equals(UNET)).toBe(true)
    expect(hub.requests.some((r) => r.server === 'cdn' && r.range === 'bytes=100000-')).toBe(true)
  })

  it('rejects a sha256 mismatch, names the file and leaves nothing behind', async () => {
    await start()
    hub.corrupt('unet/model.onnx')
    const result = pull()
    await expect(result).rejects.toMatchObject({ code: 'HUB_INTEGRITY', file: 'unet/model.onnx' })
    await expect(result).rejects.toThrow(/unet\/model\.onnx: sha256 mismatch/)
    const left = await listFiles(dest)
    expect(left.filter((path) => path.startsWith('unet/model.onnx'))).toEqual([])
  })

  it('verifies non-LFS files by their git blob hash', async () => {
    await start()
    hub.corrupt('tokenizer/vocab.json')
    await expect(pull()).rejects.toThrow(/tokenizer\/vocab\.json: git sha1 mismatch/)
  })

  it('does not download complete files again, and replaces a damaged one', async () => {
    await start()
    await pull()
    const before = resolveRequests().length
    const again = await pull()
    expect(resolveRequests().length).toBe(before)
    expect(again.files.every((f) => f.outcome === 'already-complete')).toBe(true)

    await writeFile(join(dest, 'tokenizer/merges.txt'), 'tampered, same length?!')
    const repaired = await pull()
    expect(repaired.files.filter((f) => f.outcome === 'downloaded').map((f) => f.path)).toEqual([
      'tokenizer/merges.txt',
    ])
    expect(
      (await readFile(join(dest, 'tokenizer/merges.txt'))).equals(REPO.files['tokenizer/merges.txt'].content),
    ).toBe(true)
  })

  it('falls back to the paged tree API when the listing has no sizes (a mirror ignoring blobs=true)', async () => {
    await start({ 'acme/tiny': REPO }, false)
    hub.corrupt('unet/model.onnx_data')
    await expect(pull()).rejects.toThrow(/unet\/model\.onnx_data: sha256 mismatch/)
    const treePages = hub.requests.filter((r) => r.path.includes('/tree/'))
    expect(treePages.length).toBeGreaterThan(1)
  })

  it('404 for an unknown repo (with a token) names the URL', async () => {
    await start()
    const result = pull({ repo: 'acme/missing', token: 'hf_secret' })
    await expect(result).rejects.toMatchObject({ code: 'HUB_NOT_FOUND', status: 404 })
    await expect(result).rejects.toThrow(`${hub.endpoint}/api/models/acme/missing/revision/main`)
  })

  it('404 for an unknown revision says so', async () => {
    await start()
    await expect(pull({ revision: 'v9' })).rejects.toThrow(/revision not found.*acme\/tiny@v9/)
  })

  it('401 without a token tells the user to set HF_TOKEN', async () => {
    await start({ 'acme/gated': { ...REPO, token: 'hf_right' } })
    const result = pull({ repo: 'acme/gated' })
    await expect(result).rejects.toMatchObject({ code: 'HUB_UNAUTHORIZED', status: 401 })
    await expect(result).rejects.toThrow(/HF_TOKEN/)
  })

  it('403 with a wrong token mentions HF_TOKEN and never shows the token', async () => {
    await start({ 'acme/gated': { ...REPO, token: 'hf_right' } })
    const error = await pull({ repo: 'acme/gated', token: 'hf_wrong_secret' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HubError)
    expect((error as HubError).message).toMatch(/HF_TOKEN/)
    expect(JSON.stringify(error) + String(error) + (error as Error).stack).not.toContain('hf_wrong_secret')
  })

  it('sends the token (from HF_TOKEN) to the hub but never to the CDN it redirects to', async () => {
    await start({ 'acme/gated': { ...REPO, token: 'hf_right' } })
    vi.stubEnv('HF_TOKEN', 'hf_right')
    await pull({ repo: 'acme/gated' })
    expect(hub.requests.some((r) => r.server === 'hub' && r.authorization === 'Bearer hf_right')).toBe(true)
    const cdn = hub.requests.filter((r) => r.server === 'cdn')
    expect(cdn.length).toBeGreaterThan(0)
    expect(cdn.every((r) => r.authorization === null)).toBe(true)
  })

  it('uses HF_ENDPOINT when no endpoint is given', async () => {
    await start()
    vi.stubEnv('HF_ENDPOINT', hub.endpoint)
    await pullModel({ repo: 'acme/tiny', dest, include: ['*.json'] })
    expect(await listFiles(dest)).toEqual(['model_index.json', 'tokenizer/vocab.json'])
  })

  it('an unreachable hub gives a network error naming the URL', async () => {
    await start()
    const endpoint = hub.endpoint
    await hub.close()
    const result = pullModel({ repo: 'acme/tiny', dest, endpoint })
    await expect(result).rejects.toMatchObject({ code: 'HUB_NETWORK' })
    await expect(result).rejects.toThrow(`could not reach ${endpoint}/api/models/acme/tiny/revision/main`)
  })

  it('rejects a malformed repo id before any request', async () => {
    await start()
    await expect(pull({ repo: '../etc' })).rejects.toThrow(RangeError)
    await expect(pull({ repo: 'a/b/c' })).rejects.toThrow(/owner\/name/)
    expect(hub.requests).toEqual([])
  })
})
