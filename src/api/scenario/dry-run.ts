/**
 * `?dryRun`: the request is checked exactly as a real submission would be (model, manifest limits, server
 * limits) and priced, but nothing is queued.
 * @module
 */
import type { GenerationInput, GenerationRequest, RequestOrigin } from '../../core/generation-request.js'
import { resolveSampler } from '../../engine/sampler-names.js'
import { isSchedulerName, SCHEDULER_NAMES } from '../../engine/schedules/index.js'
import { canonicalize } from '../../jobs/canonicalize.js'
import type { ApiDeps } from '../shared/deps.js'

// Copied from src/api/shared/generations.ts (not exported there): the same scheduler check as a submission.
function resolveScheduler(name: string): string {
  const key = name.trim().toLowerCase()
  if (!isSchedulerName(key)) {
    throw new RangeError(`unknown scheduler "${name}"; valid schedulers: ${SCHEDULER_NAMES.join(', ')}`)
  }
  return key
}

/** The request a submission of `input` would queue; throws the same 4xx errors. */
export async function canonicalizeOnly(
  deps: Pick<ApiDeps, 'config' | 'models'>,
  input: GenerationInput,
  origin: RequestOrigin,
): Promise<GenerationRequest> {
  const model = await deps.models.profile(input.model)
  return canonicalize(input, { model, limits: deps.config.limits, origin, resolveSampler, resolveScheduler })
}
