/**
 * Generation requests for tests of the queue and the worker.
 * @module
 */
import type { GenerationRequest } from '../core/generation-request.js'

export function sampleRequest(overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return {
    prompt: 'a red fox in snow',
    negativePrompt: '',
    model: 'tiny-sd',
    width: 64,
    height: 64,
    steps: 4,
    cfg: 7,
    sampler: 'euler',
    scheduler: 'normal',
    seed: 42,
    n: 1,
    output: { format: 'png', quality: 90 },
    origin: { keyId: null, source: 'native' },
    priority: 0,
    seedWasRandom: false,
    allowDownscaleOnOom: false,
    ...overrides,
  }
}
