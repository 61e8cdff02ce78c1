/**
 * `GET /api/jobs/:id/events`: a job's life as Server-Sent Events. Event names follow the queue's events
 * (`queued`, `started`, `progress`, `requeued`, `succeeded`, `failed`, `canceled`); each carries the
 * queue's sequence number as its id, so a client reconnecting with `Last-Event-ID` gets what it missed.
 * `position` events (no id) report the queue position while the job waits. The stream ends after the final
 * event; a reconnect after the end gets 204, which tells EventSource to stop.
 * @module
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Job } from '../../core/job.js'
import { TERMINAL_STATES } from '../../core/job.js'
import type { JobEvent } from '../../jobs/job-queue.js'
import type { ApiDeps } from '../shared/deps.js'
import { SseStream } from '../shared/sse.js'
import { jobView } from './views.js'

const POSITION_POLL_MS = 1000

type EventDeps = Pick<ApiDeps, 'config' | 'assets' | 'storage' | 'jobs'>

export async function streamJobEvents(
  deps: EventDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  job: Job,
  options: { readonly afterSeq: number | undefined; readonly base: string },
): Promise<void> {
  const replayed: JobEvent[] = []
  let live: ((event: JobEvent) => void) | undefined
  // Subscribe before deciding anything, so no event falls between the record we read and the stream.
  const unsubscribe = deps.jobs.subscribe(
    job.id,
    (event) => (live === undefined ? replayed.push(event) : live(event)),
    options.afterSeq ?? 0,
  )
  const current = (await deps.jobs.get(job.id)) ?? job
  const finished = TERMINAL_STATES.has(current.state)
  if (finished && options.afterSeq !== undefined && !replayed.some((event) => isFinal(event))) {
    unsubscribe()
    void reply.code(204).send()
    return
  }

  reply.hijack()
  const stream = new SseStream(reply.raw, { headers: { 'x-request-id': String(request.id) } })
  let chain = Promise.resolve()
  let sawFinal = false
  const write = (event: JobEvent) => {
    chain = chain.then(async () => {
      if (stream.ended) return
      stream.send({ id: event.seq, event: event.type, data: await eventData(deps, event, options.base) })
      if (isFinal(event)) stream.end()
    })
    sawFinal ||= isFinal(event)
  }
  for (const event of replayed) write(event)
  live = write

  if (!sawFinal) {
    if (replayed.length === 0) {
      // Nothing buffered (a restart, or the first connect after the events aged out): start from the record.
      chain = chain.then(async () => sendSnapshot(deps, stream, current, options.base))
    }
    const poller = pollPosition(deps, stream, job.id)
    await stream.closed
    clearInterval(poller)
  } else {
    await chain
  }
  unsubscribe()
  request.log.debug({ jobId: job.id }, 'event stream closed')
}

function isFinal(event: JobEvent): boolean {
  return event.type === 'succeeded' || event.type === 'failed' || event.type === 'canceled'
}

async function eventData(deps: EventDeps, event: JobEvent, base: string): Promise<unknown> {
  const { job } = event
  switch (event.type) {
    case 'progress':
      return {
        jobId: job.id,
        ...(event.progress ?? job.progress),
        ...(event.previewPng === undefined ? {} : { preview: `data:image/png;base64,${event.previewPng}` }),
      }
    case 'queued':
    case 'requeued':
      return {
        jobId: job.id,
        state: job.state,
        position: await deps.jobs.position(job.id),
        attempts: job.attempts,
      }
    case 'started':
      return { jobId: job.id, state: job.state, attempt: job.attempts }
    default:
      return { job: await jobView(deps, job, base) }
  }
}

async function sendSnapshot(deps: EventDeps, stream: SseStream, job: Job, base: string): Promise<void> {
  if (TERMINAL_STATES.has(job.state)) {
    stream.send({ event: job.state, data: { job: await jobView(deps, job, base) } })
    stream.end()
  } else if (job.state === 'queued') {
    stream.send({ event: 'position', data: { jobId: job.id, position: await deps.jobs.position(job.id) } })
  } else if (job.progress !== null) {
    stream.send({ event: 'progress', data: { jobId: job.id, ...job.progress } })
  } else {
    stream.send({ event: 'started', data: { jobId: job.id, state: job.state, attempt: job.attempts } })
  }
}

/** While the job waits, tell the client when its place in the queue changes. */
function pollPosition(deps: EventDeps, stream: SseStream, jobId: string): NodeJS.Timeout {
  let last: number | null | undefined
  const timer = setInterval(async () => {
    try {
      const position = await deps.jobs.position(jobId)
      if (position !== null && position !== last && !stream.ended) {
        stream.send({ event: 'position', data: { jobId, position } })
      }
      last = position
    } catch {
      // the database may be briefly busy; the next poll tries again
    }
  }, POSITION_POLL_MS)
  timer.unref()
  return timer
}
