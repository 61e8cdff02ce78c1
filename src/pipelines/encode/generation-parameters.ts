/**
 * The generation parameters Pigment writes into every image, in the plain-text layout AUTOMATIC1111 calls
 * "infotext", so A1111, Forge, ComfyUI loaders and civitai all read them:
 *
 * ```text
 * a red fox in snow
 * Negative prompt: blurry
 * Steps: 20, Sampler: Euler a, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 512x512, Model: sd-turbo
 * ```
 * @module
 */
import {
  samplerCanonicalName,
  samplerDisplayName,
  schedulerCanonicalName,
  schedulerDisplayName,
  splitLegacySamplerName,
} from './a1111-names.js'

export interface GenerationParameters {
  readonly prompt: string
  readonly negativePrompt: string
  readonly steps: number
  /** Canonical ComfyUI sampler name (`euler_ancestral`); written as A1111's display name ("Euler a"). */
  readonly sampler: string
  /** Canonical ComfyUI scheduler name (`karras`); '' when the text recorded none. */
  readonly scheduler: string
  readonly cfg: number
  readonly seed: number
  readonly width: number
  readonly height: number
  /** Model name; '' when the text recorded none. */
  readonly model: string
  /** Further `Key: value` pairs, in order (e.g. `{ 'Model hash': '6ce0161689' }`). */
  readonly extra?: Readonly<Record<string, string>>
}

/**
 * Extra keys of an image a model's `resize` size policy made: the size it was generated at ("64x64") and the
 * resampling kernel that brought it to `Size`. A1111's own hires fix writes `Hires upscale`/`Hires upscaler`;
 * these name a plain image resize, which is not a second diffusion pass.
 */
export const NATIVE_SIZE_KEY = 'Native size'
export const RESIZE_KEY = 'Resize'

/** The PNG text keyword A1111, Forge and civitai look for. */
export const PARAMETERS_KEYWORD = 'parameters'

const NEGATIVE_PREFIX = 'Negative prompt:'
const STANDARD_KEYS = new Set(['Steps', 'Sampler', 'Schedule type', 'CFG scale', 'Seed', 'Size', 'Model'])
// A1111's own pattern (modules/infotext_utils.py re_param): a key, then a JSON-quoted or comma-free value.
const PARAM_PATTERN = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g
const EXTRA_KEY_PATTERN = /^\w[\w \-/]*[\w\-/]$/

/** Renders parameters as A1111 infotext. Throws a RangeError naming an `extra` key A1111 could not parse. */
export function formatParameters(p: GenerationParameters): string {
  const pairs: [string, string][] = [
    ['Steps', String(p.steps)],
    ['Sampler', samplerDisplayName(p.sampler)],
  ]
  if (p.scheduler !== '') pairs.push(['Schedule type', schedulerDisplayName(p.scheduler)])
  pairs.push(['CFG scale', String(p.cfg)], ['Seed', String(p.seed)], ['Size', `${p.width}x${p.height}`])
  if (p.model !== '') pairs.push(['Model', p.model])
  for (const [key, value] of Object.entries(p.extra ?? {})) {
    if (!EXTRA_KEY_PATTERN.test(key) || STANDARD_KEYS.has(key)) {
      throw new RangeError(`parameters: extra key ${JSON.stringify(key)} cannot be written as infotext`)
    }
    pairs.push([key, value])
  }
  const paramLine = pairs.map(([key, value]) => `${key}: ${quoteValue(value)}`).join(', ')
  const negativeLine = p.negativePrompt === '' ? '' : `\n${NEGATIVE_PREFIX} ${p.negativePrompt}`
  return `${p.prompt}${negativeLine}\n${paramLine}`
}

/**
 * Reads A1111 infotext back. Returns null when the text has no parameter line with at least Steps, Sampler,
 * CFG scale, Seed and Size: it was not written by a generator.
 */
export function parseParameters(text: string): GenerationParameters | null {
  const lines = text.trimEnd().split('\n')
  const params = parseParamLine(lines[lines.length - 1])
  // Like A1111: a last line with fewer than three pairs is prose, so there is no parameter line at all.
  if (params.size < 3) return null
  const { prompt, negativePrompt } = splitPrompts(lines.slice(0, -1))

  const steps = parseInteger(params.get('Steps'))
  const cfg = parseDecimal(params.get('CFG scale'))
  const seed = parseInteger(params.get('Seed'))
  const size = /^(\d+)x(\d+)$/.exec(params.get('Size') ?? '')
  const samplerText = params.get('Sampler')
  if (steps === null || cfg === null || seed === null || size === null || samplerText === undefined)
    return null

  const schedulerText = params.get('Schedule type')
  const legacy = schedulerText === undefined ? splitLegacySamplerName(samplerText) : null
  const extraEntries = [...params].filter(([key]) => !STANDARD_KEYS.has(key))
  return {
    prompt,
    negativePrompt,
    steps,
    sampler: legacy?.sampler ?? samplerCanonicalName(samplerText),
    scheduler:
      legacy?.scheduler ?? (schedulerText === undefined ? '' : schedulerCanonicalName(schedulerText)),
    cfg,
    seed,
    width: Number(size[1]),
    height: Number(size[2]),
    model: params.get('Model') ?? '',
    ...(extraEntries.length > 0 ? { extra: Object.fromEntries(extraEntries) } : {}),
  }
}

/**
 * A1111 JSON-quotes a value holding a comma, newline or colon. We also quote values a reader would otherwise
 * change: edge whitespace (the pattern eats it) and a leading quote (the reader would unquote it).
 */
function quoteValue(value: string): string {
  const needsQuotes = /[,\n:]/.test(value) || value !== value.trim() || value.startsWith('"')
  return needsQuotes ? JSON.stringify(value) : value
}

function unquoteValue(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value
  try {
    const parsed: unknown = JSON.parse(value)
    return typeof parsed === 'string' ? parsed : value
  } catch {
    return value
  }
}

function parseParamLine(line: string): Map<string, string> {
  const params = new Map<string, string>()
  for (const match of line.matchAll(PARAM_PATTERN)) params.set(match[1], unquoteValue(match[2]))
  return params
}

function splitPrompts(lines: readonly string[]): { prompt: string; negativePrompt: string } {
  const negativeAt = lines.findIndex((line) => line.startsWith(NEGATIVE_PREFIX))
  if (negativeAt === -1) return { prompt: lines.join('\n'), negativePrompt: '' }
  const negativeLines = lines.slice(negativeAt)
  const firstLine = negativeLines[0].slice(NEGATIVE_PREFIX.length)
  negativeLines[0] = firstLine.startsWith(' ') ? firstLine.slice(1) : firstLine
  return { prompt: lines.slice(0, negativeAt).join('\n'), negativePrompt: negativeLines.join('\n') }
}

function parseInteger(text: string | undefined): number | null {
  if (text === undefined || !/^-?\d+$/.test(text)) return null
  const value = Number(text)
  return Number.isSafeInteger(value) ? value : null
}

function parseDecimal(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') return null
  const value = Number(text)
  return Number.isFinite(value) ? value : null
}
