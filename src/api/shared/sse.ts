/**
 * Server-Sent Events over a raw Node response (the route hijacks the reply). Writes are serialized, a
 * comment line every `keepAliveMs` keeps proxies from closing an idle stream, and `closed` resolves when
 * the client goes away or the stream is ended, so the route can unsubscribe.
 * @module
 */
import type { ServerResponse } from 'node:http'

export interface SseEvent {
  /** Sets the client's Last-Event-ID; leave out for events that cannot be replayed. */
  readonly id?: number | string
  readonly event: string
  readonly data: unknown
}

export class SseStream {
  readonly #raw: ServerResponse
  readonly #keepAlive: NodeJS.Timeout
  #ended = false
  #resolveClosed: () => void = () => {}
  /** Resolves when the client disconnects or `end()` is called. */
  readonly closed: Promise<void>

  constructor(
    raw: ServerResponse,
    options: { readonly keepAliveMs?: number; readonly headers?: object } = {},
  ) {
    this.#raw = raw
    raw.writeHead(200, {
      ...options.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses unless told otherwise, which would hold events back
      'x-accel-buffering': 'no',
    })
    raw.flushHeaders()
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
    raw.once('close', () => this.#stop())
    this.#keepAlive = setInterval(() => this.comment('keep-alive'), options.keepAliveMs ?? 15_000)
    this.#keepAlive.unref()
  }

  get ended(): boolean {
    return this.#ended || this.#raw.destroyed
  }

  send(event: SseEvent): void {
    if (this.ended) return
    const lines: string[] = []
    if (event.id !== undefined) lines.push(`id: ${event.id}`)
    lines.push(`event: ${event.event}`)
    for (const line of JSON.stringify(event.data).split('\n')) lines.push(`data: ${line}`)
    this.#raw.write(`${lines.join('\n')}\n\n`)
  }

  comment(text: string): void {
    if (!this.ended) this.#raw.write(`: ${text}\n\n`)
  }

  end(): void {
    if (this.ended) return
    this.#stop()
    this.#raw.end()
  }

  #stop(): void {
    this.#ended = true
    clearInterval(this.#keepAlive)
    this.#resolveClosed()
  }
}

/** The Last-Event-ID header (or `?lastEventId=`) as a sequence number; undefined when absent or not one. */
export function parseLastEventId(value: unknown): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (typeof text !== 'string' || !/^\d{1,15}$/.test(text.trim())) return undefined
  return Number(text.trim())
}
