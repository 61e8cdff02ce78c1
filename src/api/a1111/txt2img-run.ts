/**
 * How one A1111 txt2img runs on Pigment's queue: its `n_iter` iterations as jobs one after another, and how
 * `interrupt` and `skip` reach them. Used by the routes in `index.ts`.
 * @module
 */
import { errors } from '../../core/errors.js'
import type { Job } from '../../core/job.js'
import { formatParameters } from '../../pipelines/encode/generation-parameters.js'
import { readParametersText } from '../../pipelines/encode/read-parameters.js'
import { imageBytes, jobFailure } from '../dialect-kit.js'
import type { ApiDeps } from '../shared/deps.js'
import { awaitJob, submitGeneration } from '../shared/generations.js'
import type { Run } from './activity.js'
import type { A1111Submission, Txt2ImgResult } from './translate.js'

/** Interrupt ends each request after its running job; skip ends only the running job (batch). */
export async function stopRuns(
  deps: ApiDeps,
  runs: readonly Run[],
  how: 'interrupt' | 'skip',
): Promise<void> {
  for (const run of runs) {
    if (how === 'interrupt') run.interrupted = true
    else run.skipped = true
    if (run.jobId !== null) await deps.jobs.cancel(run.jobId)
  }
}

/**
 * Runs the request's iterations one after another (iteration k starts at seed + k × batch size, A1111's
 * numbering). A skipped iteration contributes no images; an interrupt stops after the running one. Each job
 * waits at most the sync timeout; one still unfinished is canceled and the request answers REQUEST_TIMEOUT.
 */
export async function runIterations(
  deps: ApiDeps,
  run: Run,
  submission: A1111Submission,
  model: string | undefined,
  keyId: string | null,
): Promise<Txt2ImgResult> {
  const { input } = submission
  const seeds: number[] = []
  const infotexts: string[] = []
  const images: string[] = []
  let settings: Job['request'] | undefined
  for (let k = 0; k < submission.iterations && !run.interrupted; k++) {
    run.iteration = k
    run.skipped = false
    const job = await submitGeneration(
      deps,
      { ...input, seed: input.seed + k * input.n, ...(model === undefined ? {} : { model }) },
      { origin: { keyId, source: 'a1111' } },
    )
    run.jobId = job.id
    settings ??= job.request
    if (run.interrupted) await deps.jobs.cancel(job.id)
    const unsubscribe = deps.jobs.subscribe(job.id, (event) => {
      if (event.previewPng !== undefined) run.preview = event.previewPng
    })
    const done = await awaitJob(deps, job).finally(unsubscribe)
    if (done.state === 'queued' || done.state === 'running') {
      await deps.jobs.cancel(job.id)
      throw errors.REQUEST_TIMEOUT(
        `the image was not ready within ${deps.config.syncTimeoutSeconds} s; the request was canceled`,
        { details: { jobId: job.id } },
      )
    }
    if (done.state === 'canceled' && (run.skipped || run.interrupted)) continue
    if (done.state !== 'succeeded') throw jobFailure(done)
    for (const asset of await deps.assets.listForJob(done)) {
      const bytes = await imageBytes(deps, asset)
      seeds.push(asset.seed)
      images.push(bytes.toString('base64'))
      infotexts.push(readParametersText(bytes) ?? formatParameters({ ...done.request, seed: asset.seed }))
    }
  }
  if (settings === undefined) throw new Error('txt2img ran no iteration')
  return { settings, seeds, infotexts, images }
}
