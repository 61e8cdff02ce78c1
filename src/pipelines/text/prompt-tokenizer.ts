/**
 * Turns a prompt into the fixed-layout id sequences the text encoders expect:
 * - CLIP: `[BOS, tokens…, EOS, PAD…]`, always `maxLength` (77) long; prompts that are too long are truncated
 *   so that EOS stays last (as `CLIPTokenizer(truncation=True)` does).
 * - T5 `tokens+eos+1pad` (Chroma): `[tokens…, EOS, PAD]` with attention mask `[1…1, 1, 0]`
 *   (engine-spec §5); `max_length` (Flux): padded with PAD to `maxLength`, mask 0 on the padding.
 * @module
 */
import { errors } from '../../core/errors.js'
import { type LoadedTokenizer, loadHfTokenizer, tokenText } from './hf-tokenizer.js'

export type TextPadding = 'max_length' | 'tokens+eos+1pad'

export interface TokenizedPrompt {
  readonly ids: readonly number[]
  /** 1 for real tokens (incl. EOS), 0 for padding. */
  readonly mask: readonly number[]
}

export interface PromptTokenizer {
  readonly kind: 'clip' | 't5'
  tokenize(text: string): TokenizedPrompt
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
      const body = loaded.tokenizer.encode(text, { add_special_tokens: false }).ids.slice(0, maxLength - 2)
      const ids = [bos, ...body, eos]
      const mask = ids.map(() => 1)
      while (ids.length < maxLength) {
        ids.push(pad)
        mask.push(0)
      }
      return { ids, mask }
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
      const body = loaded.tokenizer
        .encode(text, { add_special_tokens: false })
        .ids.slice(0, maxLength - reserved)
      const ids = [...body, eos]
      const mask = ids.map(() => 1)
      const length = padding === 'tokens+eos+1pad' ? ids.length + 1 : maxLength
      while (ids.length < length) {
        ids.push(pad)
        mask.push(0)
      }
      return { ids, mask }
    },
  }
}
