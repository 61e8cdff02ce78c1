/**
 * The JSON body parser every route shares. Before `JSON.parse` builds anything, one iterative pass over the
 * text measures how deeply arrays and objects nest, so a body such as `[[[[…10,000 levels…]]]]` (20 KB, well
 * under the size limit) is a 400 naming `body` instead of a stack overflow in whatever walks it recursively
 * later (null stripping, validation, error messages). The size limit is Fastify's `bodyLimit`.
 * @module
 */
import type { FastifyInstance } from 'fastify'
import { errors } from '../../core/errors.js'

/** Deeper than any request a supported API documents (a ComfyUI workflow is about six levels). */
export const MAX_JSON_DEPTH = 64

const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** The deepest nesting of arrays and objects in JSON text; brackets inside strings do not count. */
export function jsonDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (inString) {
      if (code === BACKSLASH) i++
      else if (code === QUOTE) inString = false
    } else if (code === QUOTE) {
      inString = true
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      depth++
      if (depth > deepest) {
        deepest = depth
        if (deepest > stopAbove) return deepest
      }
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      depth--
    }
  }
  return deepest
}

/** Throws VALIDATION_FAILED naming `body` when the text nests deeper than {@link MAX_JSON_DEPTH}. */
export function assertJsonDepth(text: string, max = MAX_JSON_DEPTH): void {
  if (jsonDepth(text, max) > max) {
    throw errors.VALIDATION_FAILED(`request body nests arrays and objects deeper than ${max} levels`, {
      field: 'body',
    })
  }
}

export interface JsonBodyOptions {
  /** An empty body reads as no body (for clients that always send the header), instead of a 400. */
  readonly emptyIsNoBody?: boolean
}

/**
 * Replaces the scope's `application/json` parser with Fastify's own (prototype-poisoning checks included)
 * behind the depth check. Registered once on the root instance, so every route and dialect inherits it.
 */
export function useJsonBodyParser(app: FastifyInstance, options: JsonBodyOptions = {}): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string
    if (options.emptyIsNoBody === true && text === '') {
      done(null, undefined)
      return
    }
    try {
      assertJsonDepth(text)
    } catch (error) {
      done(error as Error, undefined)
      return
    }
    parseJson(request, text, done)
  })
}
