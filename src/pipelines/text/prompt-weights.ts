/**
 * Prompt emphasis as ComfyUI reads it (`comfy/sd1_clip.py`: `escape_important`, `parse_parentheses`,
 * `token_weights`, `unescape_important`): `(word)` multiplies the weight by 1.1 per level, `(word:1.3)` sets it
 * to 1.3 (not multiplied by the enclosing weight), `\(` and `\)` are literal parentheses, unbalanced text stays
 * text. One addition ComfyUI does not make: AUTOMATIC1111's `[word]` divides by 1.1 per level (`\[`, `\]`
 * literal); a prompt without square brackets parses exactly as in ComfyUI.
 * @module
 */

export interface WeightedSegment {
  readonly text: string
  readonly weight: number
}

/** ComfyUI's escapes (NUL + a code), and two more for the square brackets. */
const ESCAPES: readonly [string, string][] = [
  ['\\)', '\0\x01'],
  ['\\(', '\0\x02'],
  ['\\]', '\0\x03'],
  ['\\[', '\0\x04'],
]

const MAX_DEPTH = 100

function escapeImportant(text: string): string {
  let out = text
  for (const [escaped, code] of ESCAPES) out = out.replaceAll(escaped, code)
  return out
}

function unescapeImportant(text: string): string {
  let out = text
  for (const [escaped, code] of ESCAPES) out = out.replaceAll(code, escaped.slice(1))
  return out
}

const OPENERS = new Set(['(', '['])
const CLOSERS = new Set([')', ']'])

/**
 * ComfyUI's `parse_parentheses` (one nesting counter), counting `[`/`]` with `(`/`)`: top-level groups come
 * out with their delimiters, text between them as is. A closer at level 0 sends the level negative and is
 * kept as text, as there.
 */
export function parseGroups(text: string): string[] {
  const result: string[] = []
  let current = ''
  let level = 0
  for (const char of text) {
    if (OPENERS.has(char)) {
      if (level === 0) {
        if (current) result.push(current)
        current = char
      } else {
        current += char
      }
      level++
    } else if (CLOSERS.has(char)) {
      level--
      if (level === 0) {
        result.push(current + char)
        current = ''
      } else {
        current += char
      }
    } else {
      current += char
    }
  }
  if (current) result.push(current)
  return result
}

/** Python's `float(text)` for the literals a prompt may hold (ComfyUI keeps the text when it fails). */
export function pythonFloat(text: string): number | undefined {
  const trimmed = text.trim()
  if (/^[+-]?(inf|infinity)$/i.test(trimmed)) return trimmed.startsWith('-') ? -Infinity : Infinity
  if (/^[+-]?nan$/i.test(trimmed)) return Number.NaN
  const digits = '\\d(?:_?\\d)*'
  const pattern = new RegExp(`^[+-]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:[eE][+-]?${digits})?$`)
  if (!pattern.test(trimmed)) return undefined
  return Number(trimmed.replaceAll('_', ''))
}

function tokenWeights(text: string, currentWeight: number, depth: number): WeightedSegment[] {
  const out: WeightedSegment[] = []
  for (const part of parseGroups(text)) {
    const first = part[0]
    const last = part[part.length - 1]
    if (part.length >= 2 && first === '(' && last === ')' && depth < MAX_DEPTH) {
      let inner = part.slice(1, -1)
      let weight = currentWeight * 1.1
      const colon = inner.lastIndexOf(':')
      if (colon > 0) {
        const parsed = pythonFloat(inner.slice(colon + 1))
        if (parsed !== undefined) {
          weight = parsed
          inner = inner.slice(0, colon)
        }
      }
      out.push(...tokenWeights(inner, weight, depth + 1))
    } else if (part.length >= 2 && first === '[' && last === ']' && depth < MAX_DEPTH) {
      out.push(...tokenWeights(part.slice(1, -1), currentWeight / 1.1, depth + 1))
    } else {
      out.push({ text: part, weight: currentWeight })
    }
  }
  return out
}

/**
 * The prompt as (text, weight) segments in order, escapes resolved; each segment is tokenized on its own,
 * as ComfyUI's `tokenize_with_weights` does. A plain prompt is one segment of weight 1.
 */
export function parsePromptWeights(prompt: string): WeightedSegment[] {
  return tokenWeights(escapeImportant(prompt), 1, 0).map((segment) => ({
    text: unescapeImportant(segment.text),
    weight: segment.weight,
  }))
}

/**
 * ComfyUI's `encode_token_weights`: when any weight differs from 1, each token's state becomes
 * (z − z_empty)·w + z_empty against the empty prompt's state at the same position (float32 throughout, as
 * torch computes it); tokens of weight 1 keep their state. `states` and `empty` are [length, dim] row-major.
 */
export function applyTokenWeights(
  states: Float32Array,
  empty: Float32Array,
  weights: readonly number[],
  dim: number,
): Float32Array {
  if (states.length !== empty.length || states.length !== weights.length * dim) {
    throw new RangeError(
      `applyTokenWeights: ${states.length} states, ${empty.length} empty, ${weights.length} weights × ${dim}`,
    )
  }
  const out = states.slice()
  const f = Math.fround
  for (let j = 0; j < weights.length; j++) {
    const weight = weights[j]
    if (weight === 1) continue
    const w = f(weight)
    for (let k = j * dim; k < (j + 1) * dim; k++) out[k] = f(f(f(states[k] - empty[k]) * w) + empty[k])
  }
  return out
}

export function hasWeights(weights: readonly number[]): boolean {
  return weights.some((weight) => weight !== 1)
}
