/**
 * `pigment models make-test-model` and `pigment generate` as a user runs them (the commander commands, with
 * stdout/stderr captured).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addGenerateCommand } from '../../src/cli/commands/generate.js'
import { modelsCommand } from '../../src/cli/commands/models.js'
import { readParameters } from '../../src/pipelines/encode/index.js'
import { defaultModelDir } from '../../src/pipelines/model-registry.js'

let root: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pigment-cli-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

class Capture extends Writable {
  text = ''
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
}

async function pigment(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const stdout = new Capture()
  const stderr = new Capture()
  const program = new Command('pigment').exitOverride()
  addGenerateCommand(program, { stdout, stderr })
  program.addCommand(modelsCommand({ stdout }))
  const previous = process.exitCode
  process.exitCode = 0
  try {
    await program.parseAsync(args, { from: 'user' })
    return { stdout: stdout.text, stderr: stderr.text, exitCode: Number(process.exitCode ?? 0) }
  } finally {
    process.exitCode = previous
  }
}

describe('pigment CLI', () => {
  it('writes a test model, generates from it, and prints the paths of the images', async () => {
    const modelDir = join(root, 'tiny-sd')
    const made = await pigment('models', 'make-test-model', '--family', 'sd', '--out', modelDir)
    expect(made.stdout.trim()).toBe(modelDir)
    expect(existsSync(join(modelDir, 'unet/model.onnx'))).toBe(true)

    const out = join(root, 'out')
    const run = await pigment(
      'generate',
      'a red circle',
      '--model',
      modelDir,
      '--size',
      '72x64',
      '--steps',
      '2',
      '-n',
      '2',
      '--seed',
      '41',
      '--format',
      'webp',
      '--quality',
      '80',
      '-o',
      out,
    )
    expect(run.exitCode).toBe(0)
    const paths = run.stdout.trim().split('\n')
    expect(paths).toEqual([join(out, 'pigment-41.webp'), join(out, 'pigment-42.webp')])
    const parameters = await readParameters(await readFile(paths[1]))
    expect(parameters).toMatchObject({ prompt: 'a red circle', seed: 42, steps: 2, width: 72, height: 64 })
  })

  it('draws and reports a seed when none is given, and never overwrites an image', async () => {
    const modelDir = join(root, 'tiny-flow')
    await pigment('models', 'make-test-model', '--family', 'flow', '--out', modelDir)
    const out = join(root, 'flow-out')
    const args = ['generate', 'a cat', '--model', modelDir, '--size', '32x32', '--steps', '1', '-o', out]
    const first = await pigment(...args)
    const seed = /seed: (\d+)/.exec(first.stderr)?.[1]
    expect(first.stdout.trim()).toBe(join(out, `pigment-${seed}.png`))
    const again = await pigment(...args, '--seed', String(seed))
    expect(again.stdout.trim()).toBe(join(out, `pigment-${seed}-1.png`))
    expect(Buffer.compare(await readFile(first.stdout.trim()), await readFile(again.stdout.trim()))).toBe(0)
  })

  it('explains a bad parameter on stderr and exits non-zero', async () => {
    const run = await pigment(
      'generate',
      'a cat',
      '--model',
      join(root, 'tiny-sd'),
      '--width',
      '70',
      '-o',
      root,
    )
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/width: must be a multiple of 8/)
  })

  it.skipIf(defaultModelDir() !== undefined)('says how to get a model when none is configured', async () => {
    const run = await pigment('generate', 'a cat')
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toMatch(/no model configured; pass --model DIR or run `pigment models make-test-model/)
  })
})
