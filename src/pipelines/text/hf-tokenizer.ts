/**
 * Loads Hugging Face tokenizers from local files only. A folder with `tokenizer.json` loads as is; a CLIP
 * folder with only `vocab.json` + `merges.txt` (what Optimum writes for Stable Diffusion) is turned into the
 * equivalent `tokenizer.json` in memory, the way `CLIPTokenizerFast` converts it.
 * @module
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Tokenizer } from '@huggingface/tokenizers'
import { errors } from '../../core/errors.js'

/** The CLIP pre-tokenizer split (openai/CLIP `simple_tokenizer.py`), as `CLIPTokenizerFast` writes it. */
const CLIP_SPLIT =
  "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"

export interface LoadedTokenizer {
  readonly tokenizer: Tokenizer
  /** tokenizer_config.json merged over special_tokens_map.json (may be empty). */
  readonly config: Readonly<Record<string, unknown>>
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
  } catch (cause) {
    throw errors.MODEL_INVALID(`cannot read tokenizer file ${file}: ${(cause as Error).message}`, {
      details: { file },
      cause,
    })
  }
}

async function readOptionalJson(file: string): Promise<Record<string, unknown>> {
  return existsSync(file) ? readJson(file) : {}
}

/** A special token entry is either a string or `{ content: string, … }`. */
export function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content
  }
  return undefined
}

function clipTokenizerJson(vocab: Record<string, unknown>, mergesText: string, specials: string[]): object {
  const merges = mergesText.split('\n').filter((line) => line.length > 0 && !line.startsWith('#version'))
  return {
    added_tokens: specials
      .filter((content) => typeof vocab[content] === 'number')
      .map((content) => ({ id: vocab[content], content, special: true, normalized: false })),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel' },
    model: {
      type: 'BPE',
      unk_token: specials[1] ?? '<|endoftext|>',
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      vocab,
      merges,
    },
  }
}

/** Loads the tokenizer in `dir`; errors name the folder when neither format is there. */
export async function loadHfTokenizer(dir: string): Promise<LoadedTokenizer> {
  if (!existsSync(dir)) {
    throw errors.MODEL_INVALID(`tokenizer folder ${dir} does not exist`, { details: { file: dir } })
  }
  const config = {
    ...(await readOptionalJson(join(dir, 'special_tokens_map.json'))),
    ...(await readOptionalJson(join(dir, 'tokenizer_config.json'))),
  }
  const jsonFile = join(dir, 'tokenizer.json')
  if (existsSync(jsonFile)) {
    // tokenizers.js wants every top-level component key present, even as null
    const json = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null }
    return { tokenizer: new Tokenizer({ ...json, ...(await readJson(jsonFile)) }, config), config }
  }
  const vocabFile = join(dir, 'vocab.json')
  const mergesFile = join(dir, 'merges.txt')
  if (existsSync(vocabFile) && existsSync(mergesFile)) {
    const specials = [tokenText(config.bos_token), tokenText(config.eos_token)].filter(
      (t): t is string => t !== undefined,
    )
    const json = clipTokenizerJson(await readJson(vocabFile), await readFile(mergesFile, 'utf8'), specials)
    return { tokenizer: new Tokenizer(json, config), config }
  }
  throw errors.MODEL_INVALID(
    `no tokenizer in ${dir}: expected tokenizer.json, or vocab.json and merges.txt (CLIP)`,
    { details: { file: dir } },
  )
}
