/**
 * Pigment's metrics: queue depth, job durations, step time, images generated and errors by code. The
 * worker side is observed from outside (see `server/instrumented-queue.ts`), the HTTP side by the error
 * handler, so neither the queue nor the worker imports this.
 * @module
 */
import { CollectedGauge, Counter, Histogram, type Labels, Registry } from './prometheus.js'

/** Seconds; covers sub-second test models up to multi-minute large ones. */
const JOB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]
const STEP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export type QueueDepthReader = () => Promise<Readonly<Record<string, number>>>

export class PigmentMetrics {
  readonly registry = new Registry()
  readonly jobDuration = this.registry.register(
    new Histogram(
      'pigment_job_duration_seconds',
      'Time from start to end of a job run, by outcome.',
      JOB_BUCKETS,
    ),
  )
  readonly queueWait = this.registry.register(
    new Histogram(
      'pigment_job_queue_wait_seconds',
      'Time a job waited in the queue before it ran.',
      JOB_BUCKETS,
    ),
  )
  readonly stepDuration = this.registry.register(
    new Histogram('pigment_step_duration_seconds', 'Time of one sampling step.', STEP_BUCKETS),
  )
  readonly imagesGenerated = this.registry.register(
    new Counter('pigment_images_generated_total', 'Images made and stored, by model.'),
  )
  readonly jobsFinished = this.registry.register(
    new Counter('pigment_jobs_finished_total', 'Jobs that reached a final state, by state.'),
  )
  readonly errors = this.registry.register(
    new Counter('pigment_errors_total', 'Errors by catalog code and where they surfaced (http or job).'),
  )
  readonly requests = this.registry.register(
    new Counter('pigment_http_requests_total', 'HTTP requests by method and status code.'),
  )

  constructor(queueDepth?: QueueDepthReader) {
    if (queueDepth !== undefined) {
      this.registry.register(
        new CollectedGauge('pigment_queue_depth', 'Jobs currently queued or running, by state.', async () =>
          Object.entries(await queueDepth()).map(([state, value]) => ({ labels: { state }, value })),
        ),
      )
    }
  }

  countError(code: string, source: 'http' | 'job'): void {
    this.errors.inc({ code, source })
  }

  countRequest(labels: Labels): void {
    this.requests.inc(labels)
  }

  render(): Promise<string> {
    return this.registry.render()
  }
}
