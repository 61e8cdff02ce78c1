/**
 * ComfyUI's failures as Pigment's catalog errors: a validation rejection is the caller's 400 naming the
 * node input (an unknown file lists what that ComfyUI has); a CUDA out-of-memory is MODEL_OUT_OF_MEMORY,
 * which the retry-smaller rule acts on; any other execution error fails the job with ComfyUI's message.
 * @module
 */
import { errors, type PigmentError } from '../core/errors.js'
import type { ComfyEvent, PromptRejection } from './protocol.js'

/** torch names the error `torch.OutOfMemoryError` (older: `torch.cuda.OutOfMemoryError`). */
const OOM = /OutOfMemoryError|out of memory|Allocation on device .* would exceed/i

/** The request field a filled node input stands for, when Pigment filled it. */
export type InputRoles = ReadonlyMap<string, string>

export function isOutOfMemory(exceptionType: string, message: string): boolean {
  return OOM.test(exceptionType) || OOM.test(message)
}

/** ComfyUI's first line is the message; the rest is its tips and allocator dump. */
const firstLine = (text: string) => text.split('\n', 1)[0]?.trim() ?? ''

export function executionError(event: Extract<ComfyEvent, { kind: 'error' }>): PigmentError {
  if (isOutOfMemory(event.exceptionType, event.message)) {
    return errors.MODEL_OUT_OF_MEMORY(
      `ComfyUI ran out of GPU memory in ${event.nodeType}: ${firstLine(event.message)}`,
      {
        details: { node: event.nodeType },
      },
    )
  }
  const type = event.exceptionType === '' ? '' : `${event.exceptionType}: `
  return errors.COMFYUI_EXECUTION_FAILED(
    `ComfyUI failed in ${event.nodeType}: ${type}${firstLine(event.message)}`,
    {
      details: { node: event.nodeType, exceptionType: event.exceptionType },
    },
  )
}

export function interruptedError(): PigmentError {
  return errors.MODEL_RUN_FAILED(
    'ComfyUI interrupted the prompt (someone else stopped it); the job will be retried',
  )
}

/**
 * A 400 from `POST /prompt`. `roles` maps "nodeId.input" to the request field Pigment filled it from, so
 * the error names `width` rather than node 7's input; other inputs are named `node 7 (EmptyLatentImage).width`.
 */
export function rejectionError(rejection: PromptRejection, roles: InputRoles = new Map()): PigmentError {
  const first = rejection.nodeErrors[0]
  if (first === undefined) {
    const details = rejection.details === '' ? '' : ` (${rejection.details})`
    return errors.REQUEST_INVALID_PARAM(`ComfyUI rejected the workflow: ${rejection.message}${details}`, {
      field: 'workflow',
      details: { type: rejection.type },
    })
  }
  const input = first.inputName ?? first.details.split(':', 1)[0] ?? ''
  const field = roles.get(`${first.nodeId}.${input}`) ?? `node ${first.nodeId} (${first.classType}).${input}`
  const others = rejection.nodeErrors.length > 1 ? ` (and ${rejection.nodeErrors.length - 1} more)` : ''
  return errors.REQUEST_INVALID_PARAM(
    `${field}: ComfyUI rejected it: ${first.message}${first.details === '' ? '' : `: ${first.details}`}${others}`,
    {
      field,
      details: {
        type: first.type,
        node: first.nodeId,
        classType: first.classType,
        ...(first.inputName === undefined ? {} : { input: first.inputName }),
      },
    },
  )
}
