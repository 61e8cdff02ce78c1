import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { Command } from 'commander'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { writeTestModel } from '../../pipelines/test-models/write-test-model.js'
import { addListCommand, formatBytes, listModelRows } from './models-list.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pigment-cli-list-'))
  vi.stubEnv('PIGMENT_MODELS_DIR', dir)
})

afterEach(async () => {
  vi.unstubAllEnvs()
  await rm(dir, { recursive: true, force: true })
})

async function listOutput(args: string[]): Promise<string> {
  let text = ''
  const stdout = new PassThrough().on('data', (d: Buffer) => (text += d))
  await addListCommand(new Command('models'), { stdout }).parseAsync(args, { from: 'user' })
  return text
}

describe('pigment models list', () => {
  it('shows cached models with family and size, and broken folders with their problem', async () => {
    const written = await writeTestModel({ family: 'sd', out: join(dir, 'acme--tiny-sd') })
    await mkdir(join(dir, 'acme--broken'))
    await writeFile(join(dir, 'acme--broken', 'model_index.json'), '{}')
    await mkdir(join(dir, 'not-a-model'))

    const cached = (await listModelRows()).filter((row) => row.source === 'cache')
    expect(cached.map((row) => row.name)).toEqual(['acme--broken', 'acme--tiny-sd'])
    expect(cached[1]).toMatchObject({ family: 'sd', bytes: written.bytes, dir: join(dir, 'acme--tiny-sd') })
    expect(cached[0].problem).toBeDefined()

    const table = await listOutput(['list'])
    expect(table).toMatch(/^NAME\s+FAMILY\s+SIZE\s+SOURCE\s+PATH$/m)
    expect(table).toMatch(
      new RegExp(`^acme--tiny-sd\\s+sd\\s+${formatBytes(written.bytes)}\\s+cache\\s+`, 'm'),
    )
    expect(table).toMatch(/^acme--broken\s+broken\s/m)
    expect(table).not.toContain('not-a-model')
  })

  it('prints JSON with --json', async () => {
    await writeTestModel({ family: 'flow', out: join(dir, 'acme--tiny-flow') })
    const rows = JSON.parse(await listOutput(['list', '--json'])) as { name: string; family: string }[]
    expect(rows.find((row) => row.name === 'acme--tiny-flow')?.family).toBe('flow')
  })

  it('formats sizes in decimal units', () => {
    expect([formatBytes(999), formatBytes(1000), formatBytes(1_234_567), formatBytes(5e9)]).toEqual([
      '999 B',
      '1.0 kB',
      '1.2 MB',
      '5.0 GB',
    ])
  })
})
