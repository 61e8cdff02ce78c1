/**
 * Weighted prompts on the tiny random-weight models' real text encoders (CLIP for sd, T5 for flow), checked
 * against ComfyUI's `encode_token_weights` formula computed here from separate encoder runs: the prompt
 * without its emphasis marks, the empty prompt of the same length, and weighted = (z − z_empty)·w + z_empty
 * at each weighted token.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSession, type Feed, type ModelSession, type OutputTensor } from '../session.js'
import { writeTestModel } from '../test-models/write-test-model.js'
import {
  loadClipTokenizer,
  loadT5Tokenizer,
  type PromptTokenizer,
  type TokenizedPrompt,
} from './prompt-tokenizer.js'
import { encodeWithWeights } from './weighted-encoding.js'

let dir: string
const sessions: ModelSession[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pigment-weights-'))
  await writeTestModel({ family: 'sd', out: join(dir, 'sd'), seed: 5 })
  await writeTestModel({ family: 'flow', out: join(dir, 'flow'), seed: 5 })
})
afterAll(async () => {
  await Promise.all(sessions.map((session) => session.dispose()))
  await rm(dir, { recursive: true, force: true })
})

async function encoderOf(file: string, withMask: boolean) {
  const session = await createSession(file)
  sessions.push(session)
  const output = session.outputs[0].name
  const runs: TokenizedPrompt[] = []
  const encode = async (tokens: TokenizedPrompt): Promise<OutputTensor> => {
    runs.push(tokens)
    const feeds: Record<string, Feed> = {
      input_ids: { data: tokens.ids, dims: [1, tokens.ids.length] },
    }
    if (withMask && session.hasInput('attention_mask')) {
      feeds.attention_mask = { data: tokens.mask, dims: [1, tokens.mask.length] }
    }
    return (await session.run(feeds, [output]))[output]
  }
  return { encode, runs }
}

async function checkFormula(
  tokenizer: PromptTokenizer,
  encode: (t: TokenizedPrompt) => Promise<OutputTensor>,
) {
  const weighted = tokenizer.tokenize('a (red:1.5) [circle] on grey')
  // the same tokens unweighted (each segment is tokenized on its own, so T5 may differ from the whole text)
  const plain = { ...weighted, weights: weighted.weights.map(() => 1) }
  const empty = tokenizer.emptyLike(plain)
  expect(empty.ids).toHaveLength(plain.ids.length)
  const z = await encode(plain)
  const zEmpty = await encode(empty)
  const out = await encodeWithWeights(tokenizer, weighted, encode)
  const dim = z.dims[z.dims.length - 1]
  let changed = 0
  for (let j = 0; j < weighted.weights.length; j++) {
    const w = weighted.weights[j]
    for (let k = j * dim; k < (j + 1) * dim; k++) {
      const expected = w === 1 ? z.data[k] : (z.data[k] - zEmpty.data[k]) * w + zEmpty.data[k]
      if (w === 1) expect(out.data[k]).toBe(z.data[k])
      else expect(out.data[k]).toBeCloseTo(expected, 5)
    }
    if (w !== 1) changed++
  }
  // "red" at 1.5 and "circle" at 1/1.1; each may be more than one token in the tiny vocabularies
  expect(changed).toBeGreaterThanOrEqual(2)
  expect(new Set(weighted.weights)).toEqual(new Set([1, 1.5, 1 / 1.1]))
  return { weighted, empty }
}

describe('weighted prompts on the tiny models', () => {
  it('CLIP (sd): the formula against the empty prompt [BOS, EOS, PAD…]', async () => {
    const tokenizer = await loadClipTokenizer(join(dir, 'sd', 'tokenizer'))
    const { encode, runs } = await encoderOf(join(dir, 'sd', 'text_encoder', 'model.onnx'), false)
    const { weighted, empty } = await checkFormula(tokenizer, encode)
    // CLIP splits words anyway: the marks only vanish
    expect(weighted.ids).toEqual(tokenizer.tokenize('a red circle on grey').ids)
    expect(empty.ids.slice(0, 2)).toEqual(tokenizer.tokenize('').ids.slice(0, 2))
    expect(empty.ids).toEqual(tokenizer.tokenize('').ids)
    // an unweighted prompt runs the encoder once; (word:1) is no weight at all
    runs.length = 0
    const same = await encodeWithWeights(tokenizer, tokenizer.tokenize('(red:1) circle'), encode)
    expect(runs).toHaveLength(1)
    expect(Array.from(same.data)).toEqual(Array.from((await encode(tokenizer.tokenize('red circle'))).data))
  })

  it('T5 for Chroma (tokens+eos+1pad): the empty prompt is PAD only, as PixArt’s gen_empty_tokens', async () => {
    const tokenizer = await loadT5Tokenizer(join(dir, 'flow', 'tokenizer'), 'tokens+eos+1pad')
    const { encode } = await encoderOf(join(dir, 'flow', 'text_encoder', 'model.onnx'), true)
    const { weighted, empty } = await checkFormula(tokenizer, encode)
    const pad = weighted.ids[weighted.ids.length - 1]
    expect(empty.ids).toEqual(weighted.ids.map(() => pad))
    // ComfyUI encodes its L pads unmasked; the extra PAD of the tokens+EOS+PAD layout stays masked
    expect(empty.mask).toEqual([...weighted.mask.slice(0, -1).map(() => 1), 0])
  })

  it('T5 for Flux (max_length): the empty prompt is EOS then PAD, mask 1 then 0', async () => {
    const tokenizer = await loadT5Tokenizer(join(dir, 'flow', 'tokenizer'), 'max_length', 24)
    const { encode } = await encoderOf(join(dir, 'flow', 'text_encoder', 'model.onnx'), true)
    const { weighted, empty } = await checkFormula(tokenizer, encode)
    expect(empty.ids).toHaveLength(24)
    expect(empty.ids.slice(1)).toEqual(weighted.ids.slice(-23).map(() => weighted.ids[23]))
    expect(empty.mask).toEqual([1, ...new Array(23).fill(0)])
  })
})
