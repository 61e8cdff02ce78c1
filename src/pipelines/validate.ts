/**
 * The pipeline's own gate on settings: whatever route a request took, a pipeline never runs settings its model
 * cannot take. Errors are REQUEST_INVALID_PARAM naming the parameter.
 * @module
 */
import { errors } from '../core/errors.js'
import type { ImageSettings } from '../core/generation-request.js'
import { requestableSizes } from '../core/size-policy.js'
import { isSchedulerName, resolveSampler, SCHEDULER_NAMES } from '../engine/index.js'
import type { ModelManifest } from './manifest.js'

/** Images per request a pipeline accepts (the server may cap lower). */
export const MAX_IMAGES = 64

function bad(field: string, message: string): Error {
  return errors.REQUEST_INVALID_PARAM(`${field}: ${message}`, { field })
}

function checkSize(field: 'width' | 'height', value: number, m: ModelManifest): void {
  const { minSize, maxSize, sizeMultiple } = requestableSizes(m.limits)
  if (!Number.isInteger(value)) throw bad(field, `must be an integer (got ${value})`)
  if (value < minSize || value > maxSize) {
    throw bad(field, `must be between ${minSize} and ${maxSize} for model ${m.name} (got ${value})`)
  }
  if (value % sizeMultiple !== 0) {
    throw bad(field, `must be a multiple of ${sizeMultiple} for ${m.family} model ${m.name} (got ${value})`)
  }
}

/** Throws on the first setting this model cannot run; returns the canonical sampler name. */
export function validateSettings(settings: ImageSettings, manifest: ModelManifest): { sampler: string } {
  if (typeof settings.prompt !== 'string') throw bad('prompt', 'must be a string')
  if (typeof settings.negativePrompt !== 'string') throw bad('negativePrompt', 'must be a string')
  checkSize('width', settings.width, manifest)
  checkSize('height', settings.height, manifest)
  const { maxSteps, minCfg, maxCfg } = manifest.limits
  if (!Number.isInteger(settings.steps) || settings.steps < 1 || settings.steps > maxSteps) {
    throw bad('steps', `must be an integer from 1 to ${maxSteps} (got ${settings.steps})`)
  }
  if (!Number.isFinite(settings.cfg) || settings.cfg < minCfg || settings.cfg > maxCfg) {
    throw bad('cfg', `must be between ${minCfg} and ${maxCfg} (got ${settings.cfg})`)
  }
  if (!Number.isSafeInteger(settings.seed) || settings.seed < 0) {
    throw bad('seed', `must be a non-negative integer (got ${settings.seed})`)
  }
  if (!Number.isInteger(settings.n) || settings.n < 1 || settings.n > MAX_IMAGES) {
    throw bad('n', `must be an integer from 1 to ${MAX_IMAGES} (got ${settings.n})`)
  }
  if (!Number.isSafeInteger(settings.seed + settings.n - 1)) throw bad('seed', 'seed + n − 1 is too large')
  if (!isSchedulerName(settings.scheduler)) {
    throw bad('scheduler', `unknown scheduler "${settings.scheduler}"; valid: ${SCHEDULER_NAMES.join(', ')}`)
  }
  try {
    return { sampler: resolveSampler(settings.sampler) }
  } catch (cause) {
    throw errors.REQUEST_INVALID_PARAM(`sampler: ${(cause as Error).message}`, { field: 'sampler', cause })
  }
}
