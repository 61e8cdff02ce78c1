/**
 * Tiny tokenizers in the real file formats: a CLIP byte-level BPE (`vocab.json` + `merges.txt`, the layout
 * of Optimum's `tokenizer/` folder) and a T5-style Unigram `tokenizer.json` (EOS 1, PAD 0). Small vocabularies
 * keep the test models' embedding tables tiny; unknown words still tokenize (character fallback).
 * @module
 */

/** Words that get whole-word merges, so common prompts tokenize to few tokens. */
// biome-ignore format: a word list reads best packed
const WORDS = [
  'a', 'an', 'the', 'of', 'on', 'in', 'and', 'with', 'at', 'photo', 'painting', 'portrait', 'cat', 'dog',
  'red', 'blue', 'green', 'yellow', 'circle', 'square', 'triangle', 'sky', 'sun', 'tree', 'house', 'city',
  'night', 'blurry', 'ugly', 'low', 'high', 'quality', 'detailed', 'landscape', 'mountain', 'lake',
]

export const CLIP_BOS = '<|startoftext|>'
export const CLIP_EOS = '<|endoftext|>'

/** GPT-2/CLIP `bytes_to_unicode`: printable bytes map to themselves, the rest to code points from 256 up. */
export function byteToUnicode(): string[] {
  const table = new Array<string>(256)
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)
  let extra = 0
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable(b) ? b : 256 + extra++)
  return table
}

/** CLIP's vocabulary order: printable bytes first, then the remapped ones (GPT-2's list order). */
function clipBaseSymbols(): string[] {
  const table = byteToUnicode()
  const order: number[] = []
  for (let b = 0; b < 256; b++) if (table[b].codePointAt(0) === b) order.push(b)
  for (let b = 0; b < 256; b++) if (table[b].codePointAt(0) !== b) order.push(b)
  return order.map((b) => table[b])
}

/** Merges that build each word left to right: "c a", "ca t</w>" for "cat". */
function wordMerges(words: readonly string[]): string[] {
  const merges: string[] = []
  const seen = new Set<string>()
  for (const word of words) {
    const chars = [...word]
    let piece = chars[0] + (chars.length === 1 ? '</w>' : '')
    for (let i = 1; i < chars.length; i++) {
      const next = chars[i] + (i === chars.length - 1 ? '</w>' : '')
      const merge = `${piece} ${next}`
      if (!seen.has(merge)) {
        seen.add(merge)
        merges.push(merge)
      }
      piece += next
    }
  }
  return merges
}

export interface ClipTokenizerFiles {
  readonly 'vocab.json': string
  readonly 'merges.txt': string
  readonly 'tokenizer_config.json': string
  readonly 'special_tokens_map.json': string
}

/** The four files of a CLIP tokenizer folder, and the vocabulary size (for the embedding table). */
export function clipTokenizerFiles(): { files: ClipTokenizerFiles; vocabSize: number } {
  const base = clipBaseSymbols()
  const merges = wordMerges(WORDS)
  const tokens = [...base, ...base.map((s) => `${s}</w>`), ...merges.map((m) => m.replace(' ', ''))]
  tokens.push(CLIP_BOS, CLIP_EOS)
  const vocab: Record<string, number> = {}
  tokens.forEach((token, id) => {
    vocab[token] = id
  })
  const special = {
    bos_token: CLIP_BOS,
    eos_token: CLIP_EOS,
    unk_token: CLIP_EOS,
    pad_token: CLIP_EOS,
  }
  const config = { ...special, model_max_length: 77, do_lower_case: true, tokenizer_class: 'CLIPTokenizer' }
  return {
    vocabSize: tokens.length,
    files: {
      'vocab.json': JSON.stringify(vocab),
      'merges.txt': `#version: 0.2\n${merges.join('\n')}\n`,
      'tokenizer_config.json': `${JSON.stringify(config, null, 2)}\n`,
      'special_tokens_map.json': `${JSON.stringify(special, null, 2)}\n`,
    },
  }
}

/** A T5-style Unigram tokenizer.json: `<pad>` 0, `</s>` 1, `<unk>` 2, then word pieces and characters. */
export function t5TokenizerJson(): { json: string; vocabSize: number } {
  const pieces: [string, number][] = [
    ['<pad>', 0],
    ['</s>', 0],
    ['<unk>', 0],
    ['▁', -2],
  ]
  for (const word of WORDS) pieces.push([`▁${word}`, -3 - word.length / 10])
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789.,!?-'
  const known = new Set(pieces.map(([piece]) => piece))
  for (const c of chars) {
    pieces.push([c, -8])
    if (!known.has(`▁${c}`)) pieces.push([`▁${c}`, -9])
  }
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  })
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<pad>'), special(1, '</s>'), special(2, '<unk>')],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 2, vocab: pieces, byte_fallback: false },
  }
  return { json: `${JSON.stringify(tokenizer)}\n`, vocabSize: pieces.length }
}
