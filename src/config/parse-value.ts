/**
 * Turns the strings that come from the environment and the command line into config values. Each parser
 * throws a plain Error whose message says what was expected; the loader adds where the value came from.
 * @module
 */

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }
const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
}

/** '90' (seconds), '500ms', '30s', '15m', '1h', '2d' → seconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text)
  if (!match) throw new Error(`expected a duration such as 90, 30s, 15m or 1h, got "${text}"`)
  return Number(match[1]) * DURATION_UNITS[(match[2] ?? 's').toLowerCase()]
}

/** '1048576', '512kb', '20mb', '1MiB' → bytes. */
export function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(text)
  if (!match) throw new Error(`expected a size such as 1048576, 512kb or 20mb, got "${text}"`)
  return Math.round(Number(match[1]) * BYTE_UNITS[(match[2] ?? 'b').toLowerCase()])
}

export function parseInteger(text: string): number {
  if (!/^\s*-?\d+\s*$/.test(text)) throw new Error(`expected an integer, got "${text}"`)
  return Number(text)
}

export function parseNumber(text: string): number {
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value)) throw new Error(`expected a number, got "${text}"`)
  return value
}

export function parseBoolean(text: string): boolean {
  const lower = text.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true
  if (['0', 'false', 'no', 'off'].includes(lower)) return false
  throw new Error(`expected true or false, got "${text}"`)
}

/** 'a,b , c' → ['a', 'b', 'c'] (environment form of a repeatable flag). */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

/** ['chroma=pigment-shapes', …] → { chroma: 'pigment-shapes' }. */
export function parsePairs(items: readonly string[]): Record<string, string> {
  const pairs: Record<string, string> = {}
  for (const item of items) {
    const at = item.indexOf('=')
    const name = item.slice(0, at).trim()
    const value = item.slice(at + 1).trim()
    if (at < 1 || name === '' || value === '') throw new Error(`expected NAME=VALUE, got "${item}"`)
    pairs[name] = value
  }
  return pairs
}
