/**
 * Turns a prompt into the fixed-layout id sequences the text encoders expect:
 * - CLIP: `[BOS, tokens…, EOS, PAD…]`, always `maxLength` (77) long; prompts that are too long are truncated
 *   so that EOS stays last (as `CLIPTokenizer(truncation=True)` does).
 * - T5 `tokens+eos+1pad` (Chroma): `[tokens…, EOS, PAD]` with attention mask `[1…1, 1, 0]`
 *   (engine-spec §5); `max_length` (Flux): padded with PAD to `maxLength`, mask 0 on the padding.
 * Emphasis (`(word:1.3)`, `[word]`) is parsed first, as ComfyUI does (`prompt-weights.ts`): each weighted
 * segment is tokenized on its own and its tokens carry its weight; special tokens and padding weigh 1.
 * @module
 */
import { errors } from '../../core/errors.js'
import { type LoadedTokenizer, loadHfTokenizer, tokenText } from './hf-tokenizer.js'
import { parsePromptWeights } from './prompt-weights.js'

export type TextPadding = 'max_length' | 'tokens+eos+1pad'

export interface TokenizedPrompt {
  readonly ids: readonly number[]
  /** 1 for real tokens (incl. EOS), 0 for padding. */
  readonly mask: readonly number[]
  /** The emphasis weight of each position (1 for special tokens and padding). */
  readonly weights: readonly number[]
}

export interface PromptTokenizer {
  readonly kind: 'clip' | 't5'
  tokenize(text: string): TokenizedPrompt
  /**
   * The empty prompt ComfyUI weighs against (`gen_empty_tokens`), as long as the prompt: CLIP start and end
   * tokens then padding; T5 (Flux) EOS then padding, mask 1 up to EOS; T5 for Chroma PAD only (PixArt's).
   */
  emptyLike(prompt: TokenizedPrompt): TokenizedPrompt
}

/** The prompt's tokens and their weights, each weighted segment tokenized on its own (ComfyUI). */
function weightedBody(loaded: LoadedTokenizer, text: string, limit: number) {
  const ids: number[] = []
  const weights: number[] = []
  for (const segment of parsePromptWeights(text)) {
    if (segment.text === '') continue
    for (const id of loaded.tokenizer.encode(segment.text, { add_special_tokens: false }).ids) {
      ids.push(id)
      weights.push(segment.weight)
    }
  }
  return { ids: ids.slice(0, limit), weights: weights.slice(0, limit) }
}

function padded(ids: number[], weights: number[], length: number, pad: number): TokenizedPrompt {
  const mask = ids.map(() => 1)
  while (ids.length < length) {
    ids.push(pad)
    mask.push(0)
    weights.push(1)
  }
  return { ids, mask, weights }
}

function requireId(
  loaded: LoadedTokenizer,
  token: string | undefined,
  fallback: string,
  dir: string,
): number {
  const text = token ?? fallback
  const id = loaded.tokenizer.token_to_id(text)
  if (id === undefined) {
    throw errors.MODEL_INVALID(`tokenizer in ${dir} has no token "${text}"`, { details: { file: dir } })
  }
  return id
}

/** Loads a CLIP tokenizer folder (Stable Diffusion). */
export async function loadClipTokenizer(dir: string, maxLength = 77): Promise<PromptTokenizer> {
  const loaded = await loadHfTokenizer(dir)
  const bos = requireId(loaded, tokenText(loaded.config.bos_token), '<|startoftext|>', dir)
  const eos = requireId(loaded, tokenText(loaded.config.eos_token), '<|endoftext|>', dir)
  const padText = tokenText(loaded.config.pad_token)
  const pad = padText === undefined ? eos : requireId(loaded, padText, '<|endoftext|>', dir)
  return {
    kind: 'clip',
    tokenize(text) {
      const body = weightedBody(loaded, text, maxLength - 2)
      return padded([bos, ...body.ids, eos], [1, ...body.weights, 1], maxLength, pad)
    },
    emptyLike(prompt) {
      return padded([bos, eos], [1, 1], prompt.ids.length, pad)
    },
  }
}

/** Loads a T5 tokenizer folder (`tokenizer.json`; EOS `</s>`, PAD `<pad>`). */
export async function loadT5Tokenizer(
  dir: string,
  padding: TextPadding,
  maxLength = 512,
): Promise<PromptTokenizer> {
  const loaded = await loadHfTokenizer(dir)
  const eos = requireId(loaded, tokenText(loaded.config.eos_token), '</s>', dir)
  const pad = requireId(loaded, tokenText(loaded.config.pad_token), '<pad>', dir)
  return {
    kind: 't5',
    tokenize(text) {
      const reserved = padding === 'tokens+eos+1pad' ? 2 : 1
      const body = weightedBody(loaded, text, maxLength - reserved)
      const length = padding === 'tokens+eos+1pad' ? body.ids.length + 2 : maxLength
      return padded([...body.ids, eos], [...body.weights, 1], length, pad)
    },
    emptyLike(prompt) {
      const length = prompt.ids.length
      if (padding === 'tokens+eos+1pad') {
        // Chroma in ComfyUI (`pixart_t5.py`): the empty prompt is PAD only, no EOS, as long as tokens + EOS,
        // encoded without a mask; the one extra PAD stays masked as in the prompt itself.
        const ids = new Array<number>(length).fill(pad)
        return { ids, mask: ids.map((_, i) => (i < length - 1 ? 1 : 0)), weights: ids.map(() => 1) }
      }
      return padded([eos], [1], length, pad)
    },
  }
}
