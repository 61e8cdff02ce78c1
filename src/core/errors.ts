/**
 * Pigment's error catalog. Every error a user can see has a stable code declared here once, with its HTTP
 * status and whether a retry may help; concrete errors come from the `errors` factory, so this table is the
 * documentation. Other areas add their codes to `CATALOG`.
 * @module
 */

export interface ErrorSpec {
  readonly httpStatus: number
  readonly retryable: boolean
}

const CATALOG = {
  /** A request parameter is out of range or unknown; `field` names it. */
  REQUEST_INVALID_PARAM: { httpStatus: 400, retryable: false },
  /** No model folder or registry entry by that name or path. */
  MODEL_NOT_FOUND: { httpStatus: 404, retryable: false },
  /** The model folder is incomplete or its manifest is invalid (`details.file`, `field`). */
  MODEL_INVALID: { httpStatus: 500, retryable: false },
  /** An ONNX file is missing or cannot be loaded by onnxruntime (`details.file`). */
  MODEL_LOAD_FAILED: { httpStatus: 500, retryable: false },
  /** A tensor fed to a graph does not match the graph's declared inputs. */
  MODEL_INPUT_MISMATCH: { httpStatus: 500, retryable: false },
  /** onnxruntime failed while running a graph; `details.inputs` lists what was fed. */
  MODEL_RUN_FAILED: { httpStatus: 500, retryable: true },
  /** The device ran out of memory. */
  MODEL_OUT_OF_MEMORY: { httpStatus: 507, retryable: true },
  /** A ComfyUI backend failed while executing the workflow; the message is ComfyUI's. Retrying fails alike. */
  COMFYUI_EXECUTION_FAILED: { httpStatus: 500, retryable: false },
  /** The requested execution device (e.g. CUDA) is not available. */
  DEVICE_UNAVAILABLE: { httpStatus: 503, retryable: false },
  /**
   * The server has no model at all, so it cannot serve a generation: unavailable rather than a bug. Not
   * retryable, since only the operator adding a model (`--model DIR`) changes the answer.
   */
  MODEL_NOT_CONFIGURED: { httpStatus: 503, retryable: false },

  // Requests and resources (the HTTP layer)
  /** The request body or query failed validation; `field` names the offending path. */
  VALIDATION_FAILED: { httpStatus: 400, retryable: false },
  /** No such resource (route, id). */
  NOT_FOUND: { httpStatus: 404, retryable: false },
  /** The resource existed but its retention period has passed, so its record and images are gone. */
  GONE: { httpStatus: 410, retryable: false },
  /** The resource is not in a state that allows this action (e.g. cancel a finished job). */
  CONFLICT: { httpStatus: 409, retryable: false },
  /** An Idempotency-Key already used (by this API key) for a different request; `field` names the header. */
  IDEMPOTENCY_KEY_REUSED: { httpStatus: 422, retryable: false },
  /** The request body is larger than the server accepts. */
  PAYLOAD_TOO_LARGE: { httpStatus: 413, retryable: false },
  /** The request body's content type is not one the route reads. */
  UNSUPPORTED_MEDIA_TYPE: { httpStatus: 415, retryable: false },
  /** The queue is at its length limit; `retryAfterSeconds` estimates when a slot frees up. */
  QUEUE_FULL: { httpStatus: 429, retryable: true },
  /** The server cannot take work right now (starting, shutting down, database unreachable). */
  UNAVAILABLE: { httpStatus: 503, retryable: true },
  /**
   * The client went away while sending its request (Node's ECONNRESET "aborted" on the body): nobody reads
   * the answer, and it is no fault of the server's (nginx's 499, "client closed request").
   */
  CLIENT_ABORTED: { httpStatus: 499, retryable: true },
  /** A bug: anything not in this catalog ends up here, with the original error as `cause`. */
  INTERNAL: { httpStatus: 500, retryable: false },

  // Auth and API dialects
  /** No API key, or one the server does not know. */
  AUTH_UNAUTHORIZED: { httpStatus: 401, retryable: false },
  /** The key is valid but its role does not allow this operation. */
  AUTH_FORBIDDEN: { httpStatus: 403, retryable: false },
  /** The key's credit balance cannot pay for the request (Segmind answers 406, as its API documents). */
  CREDITS_INSUFFICIENT: { httpStatus: 402, retryable: false },
  /** The key is over its requests per minute or its concurrent jobs; `retryAfterSeconds` says when to retry. */
  RATE_LIMITED: { httpStatus: 429, retryable: true },
  /** A foreign API documents this parameter value but Pigment cannot honour it; `field` names it. */
  DIALECT_UNSUPPORTED_PARAM: { httpStatus: 400, retryable: false },
  /** A feature a foreign API documents that this server does not provide (e.g. ComfyUI passthrough). */
  FEATURE_UNAVAILABLE: { httpStatus: 501, retryable: false },
  /** A synchronous request's bounded wait ran out before its job finished (APIs with no async answer). */
  REQUEST_TIMEOUT: { httpStatus: 504, retryable: true },

  // Jobs
  /** No job with that id (or not one the caller may see). */
  JOB_NOT_FOUND: { httpStatus: 404, retryable: false },
  /** The job was canceled; also the abort reason a running job sees when it is canceled. */
  JOB_CANCELED: { httpStatus: 409, retryable: false },
  /** A worker's lease on a running job expired or was taken over; the worker must drop the job. */
  JOB_LEASE_LOST: { httpStatus: 409, retryable: false },
  /** A worker stopped responding while running the job and the job has no attempts left. */
  JOB_STALLED: { httpStatus: 500, retryable: true },
  /** The worker is stopping; the job goes back to the queue (never shown as a job's final error). */
  JOB_INTERRUPTED: { httpStatus: 503, retryable: true },

  // Storage and assets
  /** A storage key is empty, absolute, contains `..` or characters outside `[A-Za-z0-9._/-]`. */
  STORAGE_BAD_KEY: { httpStatus: 400, retryable: false },
  /** Reading or writing image bytes failed (disk, S3). */
  STORAGE_FAILED: { httpStatus: 503, retryable: true },
  /** A signed file URL is malformed or its signature does not match. */
  STORAGE_BAD_SIGNATURE: { httpStatus: 403, retryable: false },
  /** A signed file URL has expired. */
  STORAGE_URL_EXPIRED: { httpStatus: 410, retryable: false },
  /** No asset with that id. */
  ASSET_NOT_FOUND: { httpStatus: 404, retryable: false },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof CATALOG

export interface ErrorExtra {
  /** The request parameter or manifest field at fault. */
  readonly field?: string
  readonly details?: Readonly<Record<string, unknown>>
  readonly cause?: unknown
  /** For QUEUE_FULL / UNAVAILABLE: when a retry may succeed (the `Retry-After` header). */
  readonly retryAfterSeconds?: number
}

export class PigmentError extends Error {
  readonly code: ErrorCode
  readonly httpStatus: number
  readonly retryable: boolean
  readonly field?: string
  readonly details?: Readonly<Record<string, unknown>>
  readonly retryAfterSeconds?: number

  constructor(code: ErrorCode, message: string, extra: ErrorExtra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.name = 'PigmentError'
    this.code = code
    this.httpStatus = CATALOG[code].httpStatus
    this.retryable = CATALOG[code].retryable
    if (extra.field !== undefined) this.field = extra.field
    if (extra.details !== undefined) this.details = extra.details
    if (extra.retryAfterSeconds !== undefined) this.retryAfterSeconds = extra.retryAfterSeconds
  }
}

export type ErrorFactory = (message: string, extra?: ErrorExtra) => PigmentError

/** `errors.MODEL_NOT_FOUND('no model "x"', { field: 'model' })` */
export const errors = Object.freeze(
  Object.fromEntries(
    (Object.keys(CATALOG) as ErrorCode[]).map((code) => [
      code,
      (message: string, extra?: ErrorExtra) => new PigmentError(code, message, extra),
    ]),
  ) as Record<ErrorCode, ErrorFactory>,
)

export function isPigmentError(value: unknown, code?: ErrorCode): value is PigmentError {
  return value instanceof PigmentError && (code === undefined || value.code === code)
}

/** The HTTP status and retryability of a code, e.g. for documentation or OpenAPI responses. */
export function errorSpec(code: ErrorCode): ErrorSpec {
  return CATALOG[code]
}

export const ERROR_CODES: readonly ErrorCode[] = Object.freeze(Object.keys(CATALOG) as ErrorCode[])

/** Any thrown value as a PigmentError: catalog errors pass through, anything else is INTERNAL with `cause`. */
export function toPigmentError(value: unknown): PigmentError {
  if (value instanceof PigmentError) return value
  const message = value instanceof Error ? value.message : String(value)
  return new PigmentError('INTERNAL', message, { cause: value })
}
