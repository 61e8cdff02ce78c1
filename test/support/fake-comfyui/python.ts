// Just enough of Python's value semantics for ComfyUI's messages to read as the real ones do: the validator
// formats values with str()/repr() and converts widget values with int()/float()/str()/bool().

/** An exception as Python would raise it; `type` is what full_type_name() reports. */
export class PyError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message)
  }
}

function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan'
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf'
  return Number.isInteger(n) && Math.abs(n) < 1e16 ? n.toFixed(1) : String(n)
}

function stringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  const body = s
    .replaceAll('\\', '\\\\')
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r')
    .replaceAll('\t', '\\t')
  return quote + (quote === "'" ? body.replaceAll("'", "\\'") : body) + quote
}

/** repr(value); `float` renders whole numbers as Python floats (7 -> 7.0), which JSON cannot tell apart. */
export function pyRepr(value: unknown, float = false): string {
  if (value === null || value === undefined) return 'None'
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  if (typeof value === 'number') return float ? floatRepr(value) : String(value)
  if (typeof value === 'string') return stringRepr(value)
  if (Array.isArray(value)) return `[${value.map((v) => pyRepr(v)).join(', ')}]`
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    return `{${entries.map(([k, v]) => `${stringRepr(k)}: ${pyRepr(v)}`).join(', ')}}`
  }
  return String(value)
}

/** str(value) */
export function pyStr(value: unknown, float = false): string {
  return typeof value === 'string' ? value : pyRepr(value, float)
}

export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType'
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float'
  if (typeof value === 'string') return 'str'
  if (Array.isArray(value)) return 'list'
  return 'dict'
}

export function pyInt(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new PyError('ValueError', 'cannot convert float NaN to integer')
    if (!Number.isFinite(value))
      throw new PyError('OverflowError', 'cannot convert float infinity to integer')
    return Math.trunc(value)
  }
  if (typeof value === 'string') {
    const text = value.trim().replaceAll('_', '')
    if (/^[+-]?\d+$/.test(text)) return Number.parseInt(text, 10)
    throw new PyError('ValueError', `invalid literal for int() with base 10: ${stringRepr(value)}`)
  }
  throw new PyError(
    'TypeError',
    `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(value)}'`,
  )
}

export function pyFloat(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number') return value
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase()
    if (/^[+-]?(inf|infinity)$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity
    if (/^[+-]?nan$/.test(text)) return Number.NaN
    if (/^[+-]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(e[+-]?\d+)?$/.test(text))
      return Number(text.replaceAll('_', ''))
    throw new PyError('ValueError', `could not convert string to float: ${stringRepr(value)}`)
  }
  throw new PyError(
    'TypeError',
    `float() argument must be a string or a real number, not '${pyTypeName(value)}'`,
  )
}

export function pyBool(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0
  return Boolean(value)
}

/** Python's == between two JSON values, enough for combo lists (1 == 1.0 == True). */
export function pyEquals(a: unknown, b: unknown): boolean {
  const num = (v: unknown) => (typeof v === 'boolean' ? Number(v) : v)
  return num(a) === num(b)
}

/** json.dumps(value) with Python's defaults: ", " and ": " separators, non-ASCII escaped as \\uXXXX */
export function pyJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    return `{${entries.map(([k, v]) => `${pyJsonDumps(k)}: ${pyJsonDumps(v)}`).join(', ')}}`
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'
  }
  const text = JSON.stringify(value ?? null)
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
