/**
 * Job, asset and request records for the dialect translators' unit tests: complete, plausible values that a
 * test overrides field by field. Not part of the build (`src/**\/testing` is excluded).
 * @module
 */
import type { GenerationRequest } from '../../core/generation-request.js'
import type { Asset, Job } from '../../core/job.js'

export const T0 = new Date('2026-01-02T03:04:05.000Z')

export function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs)
}

export function fakeRequest(overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return {
    prompt: 'a red cube',
    negativePrompt: '',
    model: 'pigment-shapes',
    width: 768,
    height: 768,
    steps: 6,
    cfg: 1,
    sampler: 'euler',
    scheduler: 'simple',
    seed: 2025,
    n: 1,
    output: { format: 'png', quality: 95 },
    origin: { keyId: null, source: 'test' },
    priority: 0,
    seedWasRandom: false,
    allowDownscaleOnOom: false,
    ...overrides,
  }
}

export function fakeJob(overrides: Partial<Job> = {}): Job {
  const request = overrides.request ?? fakeRequest()
  return {
    id: '01hzzzzzzzzzzzzzzzzzzzzzzz',
    state: 'succeeded',
    request,
    priority: request.priority,
    attempts: 1,
    maxAttempts: 3,
    progress: null,
    error: null,
    assetIds: ['01hassetassetassetasset000'],
    ownerKeyId: null,
    createdAt: T0,
    startedAt: at(250),
    finishedAt: at(1480),
    expiresAt: at(3_600_000),
    ...overrides,
  }
}

export function fakeAsset(overrides: Partial<Asset> = {}): Asset {
  return {
    id: '01hassetassetassetasset000',
    jobId: '01hzzzzzzzzzzzzzzzzzzzzzzz',
    ownerKeyId: null,
    key: 'outputs/2026/01/02/030405/01hzzzzzzzzzzzzzzzzzzzzzzz_0.png',
    index: 0,
    model: 'pigment-shapes',
    seed: 2025,
    width: 768,
    height: 768,
    format: 'png',
    bytes: 1234,
    sha256: '0'.repeat(64),
    parameters: {},
    createdAt: at(1480),
    expiresAt: at(3_600_000),
    ...overrides,
  }
}

/** The assets of a fake job: one per image, seeds consecutive from the request's seed. */
export function fakeAssets(job: Job): Asset[] {
  const request = job.request
  return Array.from({ length: request.n }, (_, index) =>
    fakeAsset({
      id: `01hassetassetassetasset${String(index).padStart(3, '0')}`,
      jobId: job.id,
      key: `outputs/2026/01/02/030405/${job.id}_${index}.${request.output.format === 'jpeg' ? 'jpg' : request.output.format}`,
      index,
      seed: request.seed + index,
      width: request.width,
      height: request.height,
      format: request.output.format,
    }),
  )
}
