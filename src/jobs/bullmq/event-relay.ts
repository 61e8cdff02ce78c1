/**
 * Carries job events between processes: whoever makes a transition publishes it on the fleet's events
 * channel, and every API process feeds what it hears into its own `JobEventBus`, which orders events by
 * sequence number, drops duplicates and keeps the last few per job for SSE replay. A process therefore
 * hears its own events back through Redis like everyone else's, so there is one path, not two.
 * @module
 */
import { JobEventBus } from '../job-event-bus.js'
import type { JobEvent } from '../job-queue.js'
import { decodeEvent, encodeEvent } from './job-wire.js'
import type { RedisClient } from './redis-clients.js'

export interface EventRelayOptions {
  readonly publisher: RedisClient
  /** A connection used only for subscribing (Redis puts it in subscriber mode); null = publish only. */
  readonly subscriber: RedisClient | null
  readonly channel: string
  readonly eventsPerJob?: number
  readonly onError?: (error: unknown) => void
}

export class EventRelay {
  readonly bus: JobEventBus
  readonly #options: EventRelayOptions
  readonly #onMessage = (channel: string, message: string): void => {
    if (channel !== this.#options.channel) return
    const event = decodeEvent(message)
    if (event !== null) this.bus.publish(event)
  }

  constructor(options: EventRelayOptions) {
    this.#options = options
    this.bus = new JobEventBus({ eventsPerJob: options.eventsPerJob ?? 64 })
  }

  async start(): Promise<void> {
    const { subscriber } = this.#options
    if (subscriber === null) return
    subscriber.on('message', this.#onMessage)
    await subscriber.subscribe(this.#options.channel)
  }

  /** Never throws: a lost event costs a live update, while the record in the database stays right. */
  publish(event: JobEvent): void {
    this.#options.publisher.publish(this.#options.channel, encodeEvent(event)).catch((error: unknown) => {
      this.#options.onError?.(error)
    })
  }

  async stop(): Promise<void> {
    const { subscriber } = this.#options
    if (subscriber === null) return
    subscriber.off('message', this.#onMessage)
    await subscriber.unsubscribe(this.#options.channel).catch(() => {})
  }
}
