import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clipTokenizerFiles, t5TokenizerJson } from '../test-models/tokenizer-files.js'
import { loadClipTokenizer, loadT5Tokenizer } from './prompt-tokenizer.js'

let root: string
let clipVocab: Record<string, number>

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pigment-tokenizers-'))
  const clip = clipTokenizerFiles()
  clipVocab = JSON.parse(clip.files['vocab.json'])
  await mkdir(join(root, 'clip'))
  for (const [name, text] of Object.entries(clip.files)) await writeFile(join(root, 'clip', name), text)
  await mkdir(join(root, 't5'))
  await writeFile(join(root, 't5', 'tokenizer.json'), t5TokenizerJson().json)
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('CLIP tokenizer from vocab.json + merges.txt', () => {
  it('wraps the prompt in start/end tokens and pads to 77 with the end token', async () => {
    const tokenizer = await loadClipTokenizer(join(root, 'clip'))
    const { ids, mask } = tokenizer.tokenize('A  Photo of a CAT')
    const bos = clipVocab['<|startoftext|>']
    const eos = clipVocab['<|endoftext|>']
    expect(ids.slice(0, 6)).toEqual([
      bos,
      clipVocab['a</w>'],
      clipVocab['photo</w>'],
      clipVocab['of</w>'],
      clipVocab['a</w>'],
      ids[5],
    ])
    expect(ids).toHaveLength(77)
    expect(ids.slice(-3)).toEqual([eos, eos, eos])
    expect(mask.filter((m) => m === 1).length).toBe(ids.indexOf(eos) + 1)
  })

  it('truncates long prompts and keeps the end token last', async () => {
    const tokenizer = await loadClipTokenizer(join(root, 'clip'))
    const { ids } = tokenizer.tokenize('photo '.repeat(100))
    expect(ids).toHaveLength(77)
    expect(ids[76]).toBe(clipVocab['<|endoftext|>'])
    expect(ids[75]).toBe(clipVocab['photo</w>'])
  })
})

describe('T5 tokenizer', () => {
  it('gives Chroma its tokens, EOS and exactly one masked PAD', async () => {
    const tokenizer = await loadT5Tokenizer(join(root, 't5'), 'tokens+eos+1pad')
    const { ids, mask } = tokenizer.tokenize('a red circle')
    expect(ids).toHaveLength(5)
    expect(ids.slice(-2)).toEqual([1, 0])
    expect(mask).toEqual([1, 1, 1, 1, 0])
  })

  it('pads to the maximum length for max_length padding', async () => {
    const tokenizer = await loadT5Tokenizer(join(root, 't5'), 'max_length', 8)
    const { ids, mask } = tokenizer.tokenize('a red circle')
    expect(ids).toEqual([ids[0], ids[1], ids[2], 1, 0, 0, 0, 0])
    expect(mask).toEqual([1, 1, 1, 1, 0, 0, 0, 0])
  })
})
