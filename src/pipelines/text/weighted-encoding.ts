/**
 * Runs a text encoder on a tokenized prompt and applies its emphasis weights the way ComfyUI's
 * `encode_token_weights` does: only when some weight differs from 1, against the encoder's states for the
 * empty prompt of the same length. Pooled outputs are not weighted (ComfyUI keeps the first section's).
 * @module
 */
import type { OutputTensor } from '../session.js'
import type { PromptTokenizer, TokenizedPrompt } from './prompt-tokenizer.js'
import { applyTokenWeights, hasWeights } from './prompt-weights.js'

export async function encodeWithWeights(
  tokenizer: PromptTokenizer,
  tokens: TokenizedPrompt,
  encode: (tokens: TokenizedPrompt) => Promise<OutputTensor>,
): Promise<OutputTensor> {
  const states = await encode(tokens)
  if (!hasWeights(tokens.weights)) return states
  const empty = await encode(tokenizer.emptyLike(tokens))
  const dim = states.dims[states.dims.length - 1]
  return { data: applyTokenWeights(states.data, empty.data, tokens.weights, dim), dims: states.dims }
}
