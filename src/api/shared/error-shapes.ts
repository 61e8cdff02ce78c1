/**
 * Errors raised before any route is chosen (a malformed URL, a path parameter over the length limit, no
 * route for this path or method) still belong to the API whose paths the request was aimed at. Every route
 * registers itself here with the error handler of the scope it was declared in (recorded by an `onRoute`
 * hook in `buildApp`), so a dialect gets its own shape for these errors just by setting its error handler
 * and declaring its routes. A URL is matched to the route pattern that agrees with most of its leading
 * segments (then: most literal segments, then a complete match); a URL no route shares a first segment with
 * has no handler here and answers in the native shape.
 * @module
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

export type ScopeErrorHandler = (
  this: FastifyInstance,
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) => unknown

interface RoutePattern {
  readonly segments: readonly string[]
  readonly handler: ScopeErrorHandler
}

interface Score {
  readonly matched: number
  readonly literal: number
  readonly complete: boolean
}

function segmentsOf(path: string): string[] {
  return path
    .split('?')[0]
    .split('/')
    .filter((segment) => segment !== '')
}

function isParam(segment: string): boolean {
  return segment.startsWith(':') || segment === '*'
}

function score(pattern: readonly string[], url: readonly string[]): Score {
  let matched = 0
  let literal = 0
  for (; matched < pattern.length && matched < url.length; matched++) {
    const expected = pattern[matched]
    if (expected === '*') return { matched: url.length, literal, complete: true }
    if (isParam(expected)) continue
    if (expected !== url[matched]) break
    literal++
  }
  return { matched, literal, complete: matched === pattern.length && matched === url.length }
}

function better(a: Score, b: Score): boolean {
  if (a.matched !== b.matched) return a.matched > b.matched
  if (a.literal !== b.literal) return a.literal > b.literal
  return a.complete && !b.complete
}

export class ErrorHandlersByPath {
  readonly #routes: RoutePattern[] = []

  add(url: string, handler: ScopeErrorHandler): void {
    const segments = segmentsOf(url)
    if (segments.length > 0 && !isParam(segments[0])) this.#routes.push({ segments, handler })
  }

  /** The error handler of the scope whose routes best match the URL; undefined when none shares its start. */
  find(url: string): ScopeErrorHandler | undefined {
    const segments = segmentsOf(url)
    let best: { score: Score; handler: ScopeErrorHandler } | undefined
    for (const route of this.#routes) {
      if (segments[0] !== route.segments[0]) continue
      const current = score(route.segments, segments)
      if (best === undefined || better(current, best.score)) best = { score: current, handler: route.handler }
    }
    return best?.handler
  }
}
