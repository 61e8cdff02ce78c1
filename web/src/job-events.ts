/**
 * A job's Server-Sent Events over `fetch`, not EventSource: EventSource cannot send an Authorization header,
 * and a key in the URL would end up in logs. Reconnects with `Last-Event-ID` until a final event arrives.
 * @module
 */
import { createParser } from 'eventsource-parser'
import { authHeaders, failure } from './api.js'
import type { Job } from './types.js'

export type JobEvent =
  | { readonly type: 'position'; readonly position: number | null }
  | { readonly type: 'started' }
  | {
      readonly type: 'progress'
      readonly image: number
      readonly images: number
      readonly step: number
      readonly steps: number
      readonly preview?: string
    }
  | { readonly type: 'final'; readonly job: Job }

const FINAL = new Set(['succeeded', 'failed', 'canceled'])

/** Calls `onEvent` for each event until the job ends or `signal` aborts; rejects on an API error. */
export async function watchJob(
  jobId: string,
  onEvent: (event: JobEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  let lastEventId: string | undefined
  let done = false
  for (let attempt = 0; !done && !signal.aborted; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(500 * attempt, 3000)))
    let response: Response
    try {
      response = await fetch(`/api/jobs/${jobId}/events`, {
        headers: {
          ...authHeaders(),
          accept: 'text/event-stream',
          ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
        },
        signal,
      })
    } catch (error) {
      if (signal.aborted) return
      if (attempt >= 5) throw error
      continue
    }
    if (response.status === 204) return
    if (!response.ok || response.body === null) throw await failure(response)
    const parser = createParser({
      onEvent(message) {
        if (message.id !== undefined) lastEventId = message.id
        const data = JSON.parse(message.data) as Record<string, unknown>
        const type = message.event ?? 'message'
        if (FINAL.has(type)) {
          done = true
          onEvent({ type: 'final', job: data.job as Job })
        } else if (type === 'position' || type === 'queued' || type === 'requeued') {
          onEvent({ type: 'position', position: (data.position as number | null) ?? null })
        } else if (type === 'started') onEvent({ type: 'started' })
        else if (type === 'progress')
          onEvent({ type: 'progress', ...(data as Omit<Extract<JobEvent, { type: 'progress' }>, 'type'>) })
      },
    })
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    try {
      for (;;) {
        const { value, done: ended } = await reader.read()
        if (ended) break
        parser.feed(value)
      }
    } catch (error) {
      if (signal.aborted) return
      if (attempt >= 5) throw error
    }
  }
}
