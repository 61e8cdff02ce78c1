/**
 * The bundled pigment-shapes model through the running server (issue #7): `pigment serve` with no model
 * configured picks it up by itself, and the pictures it returns for seen and held-out captions are read back by
 * the same deterministic checker the evaluation uses (`tools/demo-model/checker.ts`).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkImage, parseCaption } from '../../tools/demo-model/checker.js'
import {
  type JobBody,
  postJson,
  type ServerProcess,
  startServer,
  tempDir,
} from '../integration/server-harness.js'

interface Prompt {
  readonly prompt: string
  readonly seed: number
}

const PROMPTS_FILE = fileURLToPath(new URL('../../tools/demo-model/prompts.json', import.meta.url))
const prompts = JSON.parse(readFileSync(PROMPTS_FILE, 'utf8')) as Record<'seen' | 'heldOut', Prompt[]>

/** The colour+shape pairs held out of training (model card): one evaluation prompt of each. */
const HELD_OUT_PAIRS = ['green star', 'purple triangle', 'orange circle', 'blue square', 'white star']
const heldOut = HELD_OUT_PAIRS.map((pair) => {
  const found = prompts.heldOut.find(({ prompt }) => prompt.includes(pair))
  if (!found) throw new Error(`prompts.json has no held-out prompt with "${pair}"`)
  return found
})
const seen = prompts.seen.slice(0, 3)

let server: ServerProcess
let base: string

beforeAll(async () => {
  // No --model and no models dir of the user's: the bundled model is the default.
  server = await startServer(['--data-dir', tempDir('demo')], {
    PIGMENT_MODELS_DIR: join(tempDir('no-models'), 'models'),
  })
  base = server.url
})

afterAll(async () => {
  await server?.stop()
})

interface Checked {
  readonly prompt: string
  readonly colours: boolean
  readonly shape: boolean
  readonly got: string
}

async function generateAndCheck({ prompt, seed }: Prompt): Promise<Checked> {
  const response = await postJson(`${base}/api/generations`, { prompt, seed })
  expect(response.status).toBe(200)
  const job = (await response.json()) as JobBody & { request: { model: string; width: number } }
  expect(job.state).toBe('succeeded')
  expect(job.request).toMatchObject({ model: 'pigment-shapes', width: 64 })
  const png = Buffer.from(await (await fetch(job.images[0].url)).arrayBuffer())
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  const got = checkImage(new Uint8Array(data), info.width, info.height)
  const want = parseCaption(prompt)
  return {
    prompt,
    colours: got.shapeColor === want.shapeColor && got.backgroundColor === want.backgroundColor,
    shape: got.shape === want.shape,
    got: `${got.shape} ${got.shapeColor} on ${got.backgroundColor}`,
  }
}

describe('the bundled demo model through the server', () => {
  it('draws the asked colours and shapes for seen and held-out captions', async () => {
    const results: Checked[] = []
    for (const item of [...seen, ...heldOut]) results.push(await generateAndCheck(item))
    const report = results.map((r) => `${r.prompt} -> ${r.got}`).join('\n')
    // Colours are right on every evaluation prompt (100 % seen and held-out): any miss is a regression.
    expect(
      results.filter((r) => !r.colours),
      report,
    ).toEqual([])
    // Shapes: 100 % seen and 96 % held-out in the evaluation; one borderline shape may flip with the CPU's
    // float rounding, a broken model or pipeline gets most of them wrong (chance is 25 %).
    expect(results.filter((r) => r.shape).length, report).toBeGreaterThanOrEqual(results.length - 1)
  })
})
