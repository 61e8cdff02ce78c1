import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { Command } from 'commander'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type FakeHub, startFakeHub } from '../../pipelines/hub/testing/fake-hub.js'
import { addPullCommand, type CliIo, parseRepoSpec } from './models-pull.js'

let hub: FakeHub
let dir: string

beforeEach(async () => {
  vi.stubEnv('HF_TOKEN', '')
  dir = await mkdtemp(join(tmpdir(), 'pigment-cli-pull-'))
  vi.stubEnv('PIGMENT_MODELS_DIR', dir)
  hub = await startFakeHub({
    repos: {
      'acme/tiny': {
        revisions: ['v1'],
        files: {
          'model_index.json': { content: Buffer.from('{}') },
          'unet/model.onnx': { content: Buffer.alloc(5000, 1), lfs: true },
          'README.md': { content: Buffer.from('# tiny') },
        },
      },
      'acme/gated': { token: 'hf_ok', files: { 'a.json': { content: Buffer.from('{}') } } },
    },
  })
})

afterEach(async () => {
  vi.unstubAllEnvs()
  await hub.close()
  await rm(dir, { recursive: true, force: true })
})

function capture(): { io: CliIo; out: () => string; err: () => string } {
  const chunks = { out: '', err: '' }
  const stdout = new PassThrough().on('data', (d: Buffer) => (chunks.out += d))
  const stderr = new PassThrough().on('data', (d: Buffer) => (chunks.err += d))
  return { io: { stdout, stderr }, out: () => chunks.out, err: () => chunks.err }
}

async function run(args: string[], io: CliIo, errors: string[] = []): Promise<void> {
  const models = new Command('models')
    .exitOverride()
    .configureOutput({ writeErr: (text) => errors.push(text) })
  addPullCommand(models, io)
  for (const command of models.commands)
    command.exitOverride().configureOutput({ writeErr: (t) => errors.push(t) })
  await models.parseAsync(args, { from: 'user' })
}

describe('parseRepoSpec', () => {
  it('splits owner/name@revision, defaulting to main', () => {
    expect(parseRepoSpec('acme/tiny')).toEqual({ repo: 'acme/tiny', revision: 'main' })
    expect(parseRepoSpec('acme/tiny@v1.0')).toEqual({ repo: 'acme/tiny', revision: 'v1.0' })
    expect(parseRepoSpec('acme/tiny@refs/pr/3')).toEqual({ repo: 'acme/tiny', revision: 'refs/pr/3' })
  })

  it('rejects anything else', () => {
    for (const bad of ['tiny', 'acme/tiny@', 'a/b/c', '../x', 'acme/ti ny']) {
      expect(() => parseRepoSpec(bad)).toThrow(/owner\/name/)
    }
  })
})

describe('pigment models pull', () => {
  it('pulls into <model cache>/owner--name and prints the folder on stdout', async () => {
    const { io, out, err } = capture()
    await run(['pull', 'acme/tiny@v1', '--endpoint', hub.endpoint], io)
    const folder = join(dir, 'acme--tiny')
    expect(out()).toBe(`${folder}\n`)
    expect((await readdir(folder, { recursive: true })).sort()).toEqual([
      'model_index.json',
      'unet',
      'unet/model.onnx',
    ])
    expect(err()).toContain('[2/2] unet/model.onnx 5.0 kB downloaded')
    expect(hub.requests.some((r) => r.path.startsWith('/api/models/acme/tiny/revision/v1'))).toBe(true)
  })

  it('takes several --include patterns and a --dest folder', async () => {
    const { io, out } = capture()
    const dest = join(dir, 'elsewhere')
    await run(
      ['pull', 'acme/tiny', '--include', 'README.md', '*.json', '--dest', dest, '--endpoint', hub.endpoint],
      io,
    )
    expect(out()).toBe(`${dest}\n`)
    expect((await readdir(dest)).sort()).toEqual(['README.md', 'model_index.json'])
  })

  it('reads the endpoint from HF_ENDPOINT', async () => {
    vi.stubEnv('HF_ENDPOINT', hub.endpoint)
    const { io, out } = capture()
    await run(['pull', 'acme/tiny'], io)
    expect(out()).toBe(`${join(dir, 'acme--tiny')}\n`)
  })

  it('reports a gated repo as an error that mentions HF_TOKEN, and prints no path', async () => {
    const { io, out } = capture()
    const errors: string[] = []
    await expect(run(['pull', 'acme/gated', '--endpoint', hub.endpoint], io, errors)).rejects.toMatchObject({
      exitCode: 1,
    })
    expect(errors.join('')).toMatch(/HF_TOKEN/)
    expect(out()).toBe('')
  })
})
