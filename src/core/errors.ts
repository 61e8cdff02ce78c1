/**
 * Pigment's error catalog. Every error a user can see has a stable code declared here once, with its HTTP
 * status and whether a retry may help; concrete errors come from the `errors` factory, so this table is the
 * documentation. Other areas add their codes to `CATALOG`.
 * @module
 */

interface ErrorSpec {
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
  /** The requested execution device (e.g. CUDA) is not available. */
  DEVICE_UNAVAILABLE: { httpStatus: 503, retryable: false },
  /** No model was named and no default model is configured. */
  MODEL_NOT_CONFIGURED: { httpStatus: 500, retryable: false },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof CATALOG

export interface ErrorExtra {
  /** The request parameter or manifest field at fault. */
  readonly field?: string
  readonly details?: Readonly<Record<string, unknown>>
  readonly cause?: unknown
}

export class PigmentError extends Error {
  readonly code: ErrorCode
  readonly httpStatus: number
  readonly retryable: boolean
  readonly field?: string
  readonly details?: Readonly<Record<string, unknown>>

  constructor(code: ErrorCode, message: string, extra: ErrorExtra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.name = 'PigmentError'
    this.code = code
    this.httpStatus = CATALOG[code].httpStatus
    this.retryable = CATALOG[code].retryable
    if (extra.field !== undefined) this.field = extra.field
    if (extra.details !== undefined) this.details = extra.details
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
