/**
 * Tells an outage of the records database (refused or dropped connection, a server shutting down or not
 * yet accepting connections) from a bug, so the API can answer 503 with Retry-After instead of 500 while
 * Postgres restarts.
 * @module
 */

// node's socket errors and Postgres SQLSTATE classes 08 (connection exception) and 57P (operator intervention)
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
])
const CONNECTION_MESSAGES = [
  /Connection terminated/i,
  /connection timeout/i,
  /Client has encountered a connection error/i,
]

export function isDatabaseOutage(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') {
      if (SOCKET_CODES.has(code) || code.startsWith('08') || code.startsWith('57P')) return true
    }
    if (CONNECTION_MESSAGES.some((pattern) => pattern.test(current instanceof Error ? current.message : '')))
      return true
    current = current.cause
  }
  // AggregateError: every address refused (IPv4 and IPv6 tried)
  if (error instanceof AggregateError) return error.errors.some((inner) => isDatabaseOutage(inner))
  return false
}
