import { AuthImage } from './auth-image.js'
import type { Job } from './types.js'

/** What the page knows about the job it started, from the submit answer and the job's events. */
export interface JobWatch {
  readonly job: Job
  readonly phase: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled'
  readonly position: number | null
  readonly progress: {
    readonly image: number
    readonly images: number
    readonly step: number
    readonly steps: number
  } | null
  readonly preview: string | null
  readonly canceling: boolean
  readonly error: string | null
}

function fraction(watch: JobWatch): number {
  const p = watch.progress
  if (watch.phase === 'succeeded') return 1
  if (p === null || p.steps === 0) return 0
  return (p.image * p.steps + p.step) / (p.images * p.steps)
}

function statusLine(watch: JobWatch): string {
  const p = watch.progress
  switch (watch.phase) {
    case 'queued':
      return watch.position === null
        ? 'Queued'
        : watch.position === 0
          ? 'Queued: next to run'
          : `Queued: position ${watch.position + 1}`
    case 'running':
      return p === null ? 'Starting…' : `Image ${p.image + 1} of ${p.images}, step ${p.step} of ${p.steps}`
    case 'succeeded':
      return `Done: ${watch.job.images.length} image${watch.job.images.length === 1 ? '' : 's'}, seed ${watch.job.request.seed}`
    case 'canceled':
      return 'Canceled'
    case 'failed':
      return `Failed: ${watch.error ?? watch.job.error?.message ?? 'unknown error'}`
  }
}

export function JobPanel(props: {
  watch: JobWatch
  onCancel: () => void
  onOpen: (assetId: string) => void
}) {
  const { watch } = props
  const active = watch.phase === 'queued' || watch.phase === 'running'
  const percent = Math.round(fraction(watch) * 100)
  return (
    <section class={`job-panel job-${watch.phase}`} aria-labelledby="job-heading" data-state={watch.phase}>
      <h2 id="job-heading">Current job</h2>
      <p class="job-status" role="status" aria-live="polite">
        {statusLine(watch)}
      </p>
      <div class="progress-row">
        <progress id="job-progress" max={100} value={percent} aria-label="Generation progress">
          {percent}%
        </progress>
        <span class="percent">{percent}%</span>
        {active && (
          <button type="button" class="danger" onClick={props.onCancel} disabled={watch.canceling}>
            {watch.canceling ? 'Canceling…' : 'Cancel'}
          </button>
        )}
      </div>
      {active && watch.preview !== null && (
        <img class="preview" src={watch.preview} alt="Low-resolution preview of the generation in progress" />
      )}
      {watch.phase === 'succeeded' && (
        <ul class="results">
          {watch.job.images.map((image) => (
            <li key={image.assetId}>
              <button
                type="button"
                class="thumb"
                onClick={() => props.onOpen(image.assetId)}
                aria-label={`Open image, seed ${image.seed}`}
              >
                <AuthImage assetId={image.assetId} signedUrl={image.url} alt={`Result, seed ${image.seed}`} />
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
