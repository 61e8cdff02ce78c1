/**
 * What an API process of a fleet knows about the rest: live workers (from their Redis adverts), slots
 * per model, and the queue depth (from the records). `/readyz` reports it; an API process with no live
 * worker for any of its models is not ready, since a generation sent to it would only wait.
 * @module
 */
import type { BullmqQueue } from '../jobs/bullmq/bullmq-queue.js'
import { capacityOf, readAdverts } from '../jobs/bullmq/worker-registry.js'

export interface FleetStatus {
  readonly workers: number
  readonly queued: number
  readonly running: number
  readonly models: Readonly<
    Record<string, { readonly workers: number; readonly slots: number; readonly free: number }>
  >
}

export interface FleetStatusSource {
  status(): Promise<FleetStatus>
}

export function fleetStatusSource(queue: BullmqQueue): FleetStatusSource {
  return {
    async status() {
      const [adverts, counts] = await Promise.all([readAdverts(queue.redis, queue.names), queue.counts()])
      const capacity = capacityOf(adverts)
      return {
        workers: adverts.length,
        queued: counts.queued,
        running: counts.running,
        models: capacity.models,
      }
    },
  }
}
