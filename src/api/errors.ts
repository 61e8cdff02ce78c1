/**
 * Every error leaves the server in one JSON shape, `{error: {code, message, field?}}`, with the status from
 * the catalog in `core/errors.ts`. Fastify's own errors (body limit, content type, bad JSON, schema
 * validation) are mapped onto catalog codes here; anything else is a bug and becomes a 500 that is logged
 * with its stack. Dialect plugins may set their own handler and fall back to `handleError`.
 * @module
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { errors, type PigmentError, toPigmentError } from '../core/errors.js'
import { isDatabaseOutage } from '../db/outage.js'

export interface ErrorBody {
  readonly error: {
    readonly code: string
    readonly message: string
    readonly field?: string
    readonly jobId?: string
  }
}

/** One item of Ajv's (and our validator's) error list; only what we read. */
interface SchemaIssue {
  readonly instancePath?: string
  readonly message?: string
  readonly keyword?: string
  readonly params?: Readonly<Record<string, unknown>>
}

const FASTIFY_CODES: Readonly<Record<string, (error: FastifyError) => PigmentError>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    errors.PAYLOAD_TOO_LARGE('request body is larger than the server accepts'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (error) =>
    errors.UNSUPPORTED_MEDIA_TYPE(`${error.message}; send Content-Type: application/json`),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    errors.VALIDATION_FAILED('request body length does not match Content-Length'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    errors.VALIDATION_FAILED('request body is empty but Content-Type is application/json', { field: 'body' }),
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    errors.VALIDATION_FAILED('request body is not valid JSON', { field: 'body' }),
  FST_ERR_BAD_URL: () => errors.VALIDATION_FAILED('request URL is malformed'),
  FST_ERR_NOT_FOUND: () => errors.NOT_FOUND('no such route'),
}

/** Maps whatever was thrown to a catalog error; unknown errors become INTERNAL. */
export function toHttpError(error: unknown): PigmentError {
  const fastifyError = error as Partial<FastifyError> & { validation?: readonly SchemaIssue[] }
  const mapped = fastifyError.code === undefined ? undefined : FASTIFY_CODES[fastifyError.code]
  if (mapped !== undefined) return mapped(fastifyError as FastifyError)
  if (Array.isArray(fastifyError.validation)) {
    return fromSchemaIssue(fastifyError.validation[0], fastifyError.validationContext ?? 'body')
  }
  // A JSON body that fails to parse arrives as a SyntaxError carrying status 400.
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return errors.VALIDATION_FAILED(`request body is not valid JSON: ${error.message}`, { field: 'body' })
  }
  // Before the outage check: a dropped upload is also an ECONNRESET, but the client's, not the database's.
  if (isClientAbort(error)) return errors.CLIENT_ABORTED('the client closed the connection mid-request')
  if (isDatabaseOutage(error)) {
    return errors.UNAVAILABLE('the records database is unreachable; retry shortly', {
      retryAfterSeconds: 2,
      cause: error,
    })
  }
  const pigment = toPigmentError(error)
  if (pigment.code === 'INTERNAL' && typeof fastifyError.statusCode === 'number') {
    return fromStatus(fastifyError.statusCode, pigment)
  }
  return pigment
}

/** Node's error on a request body whose client reset the connection before sending all of it. */
function isClientAbort(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === 'ECONNRESET' &&
    error.message === 'aborted'
  )
}

/** Other 4xx errors raised by Fastify or its plugins keep their status family. */
function fromStatus(status: number, fallback: PigmentError): PigmentError {
  const message = fallback.message
  if (status === 413) return errors.PAYLOAD_TOO_LARGE(message)
  if (status === 415) return errors.UNSUPPORTED_MEDIA_TYPE(message)
  if (status === 404) return errors.NOT_FOUND(message)
  if (status === 429) return errors.QUEUE_FULL(message)
  if (status >= 400 && status < 500) return errors.VALIDATION_FAILED(message)
  return fallback
}

/** 'body/width' style paths become 'width'; a missing or unknown property names that property. */
export function fromSchemaIssue(issue: SchemaIssue | undefined, context: string): PigmentError {
  if (issue === undefined) return errors.VALIDATION_FAILED(`invalid ${context}`)
  const segments = (issue.instancePath ?? '').split('/').filter((part) => part !== '')
  const params = issue.params ?? {}
  let message = issue.message ?? 'is invalid'
  if (typeof params.missingProperty === 'string') {
    segments.push(params.missingProperty)
    message = 'is required'
  } else if (typeof params.additionalProperty === 'string') {
    segments.push(params.additionalProperty)
    message = 'is not a known field'
  }
  const field = segments.length > 0 ? segments.join('.') : context
  return errors.VALIDATION_FAILED(`${field}: ${message}`, { field })
}

export function errorBody(error: PigmentError): ErrorBody {
  const jobId = error.details?.jobId
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
      ...(typeof jobId === 'string' ? { jobId } : {}),
    },
  }
}

/** The root error handler: renders the Pigment error shape, logs bugs with their stack, returns what it sent. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): PigmentError {
  const pigment = toHttpError(error)
  if (pigment.httpStatus >= 500) {
    request.log.error({ err: error, code: pigment.code }, 'request failed')
  } else {
    request.log.info({ code: pigment.code, field: pigment.field }, pigment.message)
  }
  if (pigment.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(pigment.retryAfterSeconds))))
  }
  const body =
    pigment.code === 'INTERNAL'
      ? errorBody(errors.INTERNAL(`internal error (request ${request.id}); see the server log`))
      : errorBody(pigment)
  void reply.code(pigment.httpStatus).type('application/json; charset=utf-8').send(body)
  return pigment
}

/** Unknown routes answer in the same shape. */
export function handleNotFound(request: FastifyRequest, reply: FastifyReply): void {
  void reply
    .code(404)
    .type('application/json; charset=utf-8')
    .send(errorBody(errors.NOT_FOUND(`no route ${request.method} ${request.url.split('?')[0]}`)))
}
