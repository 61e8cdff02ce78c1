/**
 * Small pieces every foreign-API dialect plugin shares: a scoped error handler that renders the dialect's
 * envelope, "null means not given", the synchronous generate-and-wait, and reading an image's bytes. The
 * dialect logic itself stays in each `api/<dialect>/` folder.
 * @module
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ERROR_CODES, type ErrorCode, errors, PigmentError } from '../core/errors.js'
import type { GenerationInput, OutputFormat } from '../core/generation-request.js'
import type { Asset, Job } from '../core/job.js'
import { toHttpError } from './errors.js'
import type { ApiDeps } from './shared/deps.js'
import { awaitJob, type SubmitOptions, submitGeneration } from './shared/generations.js'
import { MAX_JSON_DEPTH } from './shared/json-body.js'

/** A dialect's rendering of an error: status, body and any extra headers. */
export interface RenderedError {
  readonly status: number
  readonly body: unknown
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * A Fastify error handler for one dialect's scope: maps whatever was thrown (Fastify's own errors included)
 * to a catalog error, logs and counts it as the root handler does, and sends the dialect's envelope.
 */
export function dialectErrorHandler(
  deps: Pick<ApiDeps, 'metrics'>,
  render: (error: PigmentError, request: FastifyRequest) => RenderedError,
  fieldNames: DialectFieldNames = {},
) {
  return function handleDialectError(
    error: FastifyError,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const pigment = toHttpError(error)
    if (pigment.httpStatus >= 500) request.log.error({ err: error, code: pigment.code }, 'request failed')
    else request.log.info({ code: pigment.code, field: pigment.field }, pigment.message)
    deps.metrics.countError(pigment.code, 'http')
    const safe =
      pigment.code === 'INTERNAL'
        ? errors.INTERNAL(`internal error (request ${request.id}); see the server log`)
        : pigment
    const rendered = render(inDialectTerms(safe, fieldNames), request)
    if (pigment.retryAfterSeconds !== undefined) {
      void reply.header('retry-after', String(Math.max(1, Math.ceil(pigment.retryAfterSeconds))))
    }
    for (const [name, value] of Object.entries(rendered.headers ?? {})) void reply.header(name, value)
    void reply.code(rendered.status).type('application/json; charset=utf-8').send(rendered.body)
  }
}

/** Pigment's canonical parameter names (`steps`, `n`, `width` …) → the dialect's own, where they differ. */
export type DialectFieldNames = Readonly<Record<string, string>>

/**
 * A canonical-parameter error (canonicalization checks the model's and the server's limits in Pigment's own
 * names) renamed into the dialect's parameter name, in `field` and in the message's `field: ` prefix, so an
 * OpenAI client that sent `size` reads `size`, not `width`.
 */
export function inDialectTerms(error: PigmentError, names: DialectFieldNames): PigmentError {
  const field = error.field
  if (error.code !== 'REQUEST_INVALID_PARAM' || field === undefined) return error
  const name = names[field]
  if (name === undefined || name === field) return error
  const prefix = `${field}: `
  const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message
  return new PigmentError(error.code, `${name}: ${detail}`, {
    field: name,
    cause: error,
    ...(error.details === undefined ? {} : { details: error.details }),
  })
}

/**
 * JSON `null` means "not given" in the foreign APIs (Python's `None`, the OpenAI client's `| null`). The body
 * parser already refused deeper nesting; the guard keeps the recursion bounded for any other caller.
 */
export function withoutNulls<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null) return value
  if (depth >= MAX_JSON_DEPTH) {
    throw errors.VALIDATION_FAILED(`request body nests deeper than ${MAX_JSON_DEPTH} levels`, {
      field: 'body',
    })
  }
  if (Array.isArray(value)) return value.map((item) => withoutNulls(item, depth + 1)) as T
  const kept = Object.entries(value).filter(([, item]) => item !== null)
  return Object.fromEntries(kept.map(([key, item]) => [key, withoutNulls(item, depth + 1)])) as T
}

/** A preValidation hook applying {@link withoutNulls} to the body. */
export async function dropNullFields(request: FastifyRequest): Promise<void> {
  if (typeof request.body === 'object' && request.body !== null) request.body = withoutNulls(request.body)
}

/** A failed or canceled job as the error it ended with (the stored code when it is a catalog code). */
export function jobFailure(job: Job): PigmentError {
  const details = { jobId: job.id }
  if (job.state === 'canceled') return errors.JOB_CANCELED(`job ${job.id} was canceled`, { details })
  if (job.state === 'expired') return errors.GONE(`job ${job.id} has expired`, { details })
  const code = job.error?.code
  const known = code !== undefined && (ERROR_CODES as readonly string[]).includes(code)
  const message = job.error?.message ?? `job ${job.id} failed`
  return new PigmentError(known ? (code as ErrorCode) : 'INTERNAL', message, { details })
}

/**
 * Submits and waits up to the server's sync timeout, for APIs that only answer synchronously. A job that
 * fails throws its error; one still unfinished is canceled (its caller can never fetch it) and throws
 * REQUEST_TIMEOUT.
 */
export async function generateAndWait(
  deps: Pick<ApiDeps, 'config' | 'jobs' | 'models' | 'state' | 'records'>,
  input: GenerationInput,
  options: SubmitOptions,
): Promise<Job> {
  const job = await submitGeneration(deps, input, options)
  const done = await awaitJob(deps, job)
  if (done.state === 'succeeded') return done
  if (done.state === 'queued' || done.state === 'running') {
    await deps.jobs.cancel(job.id)
    throw errors.REQUEST_TIMEOUT(
      `the image was not ready within ${deps.config.syncTimeoutSeconds} s; the request was canceled`,
      { details: { jobId: job.id } },
    )
  }
  throw jobFailure(done)
}

/** The bytes of a stored image; GONE when retention already removed them. */
export async function imageBytes(deps: Pick<ApiDeps, 'storage'>, asset: Asset): Promise<Buffer> {
  const bytes = await deps.storage.get(asset.key)
  if (bytes === null) throw errors.GONE(`the image of asset ${asset.id} is no longer stored`)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function contentTypeOf(format: OutputFormat): string {
  return `image/${format}`
}

/** The model name a request gave, where the default model also answers to `default`. */
export function requestedModel(name: string | undefined): string | undefined {
  return name === undefined || name === 'default' ? undefined : name
}
