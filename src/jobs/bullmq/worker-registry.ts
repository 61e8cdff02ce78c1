/**
 * Which workers are alive and what they can run: each worker process writes a small record under its own
 * key with a time to live and renews it; a key that was not renewed disappears, and with it the worker.
 * API processes read the records for `/readyz`, RunPod's `/health` and the per-model capacity.
 * @module
 */
import type { FleetNames } from './fleet-names.js'
import type { RedisClient } from './redis-clients.js'

export interface WorkerAdvert {
  readonly id: string
  readonly host: string
  readonly pid: number
  /** Models this worker takes jobs for (loaded or loadable). */
  readonly models: readonly string[]
  /** Jobs it runs at once, and how many it runs now. */
  readonly slots: number
  readonly busy: number
  /** Epoch ms of the last renewal. */
  readonly at: number
}

export interface FleetCapacity {
  readonly workers: readonly WorkerAdvert[]
  /** Per model: workers that take it, their slots, and the slots free now. */
  readonly models: Readonly<
    Record<string, { readonly workers: number; readonly slots: number; readonly free: number }>
  >
}

export async function advertise(redis: RedisClient, names: FleetNames, advert: WorkerAdvert, ttlMs: number) {
  await redis.set(names.workerKey(advert.id), JSON.stringify(advert), 'PX', ttlMs)
}

export async function withdrawAdvert(redis: RedisClient, names: FleetNames, workerId: string) {
  await redis.del(names.workerKey(workerId))
}

const SCAN_BATCH = 200

/** Every live worker's advert. */
export async function readAdverts(redis: RedisClient, names: FleetNames): Promise<WorkerAdvert[]> {
  const keys: string[] = []
  let cursor = '0'
  // bounded: a fleet has at most a few thousand workers, and SCAN ends when the cursor comes back to 0
  for (let round = 0; round < 1000; round++) {
    const [next, batch] = await redis.scan(cursor, 'MATCH', names.workerKeyPattern, 'COUNT', SCAN_BATCH)
    keys.push(...batch)
    cursor = next
    if (cursor === '0') break
  }
  if (keys.length === 0) return []
  const values = await redis.mget(...keys)
  const adverts: WorkerAdvert[] = []
  for (const value of values) {
    if (value === null) continue
    try {
      adverts.push(JSON.parse(value) as WorkerAdvert)
    } catch {
      // a key under our pattern that some other writer left: not a worker
    }
  }
  return adverts.sort((a, b) => a.id.localeCompare(b.id))
}

export function capacityOf(adverts: readonly WorkerAdvert[]): FleetCapacity {
  const models: Record<string, { workers: number; slots: number; free: number }> = {}
  for (const advert of adverts) {
    for (const model of advert.models) {
      const entry = models[model] ?? { workers: 0, slots: 0, free: 0 }
      models[model] = entry
      entry.workers++
      entry.slots += advert.slots
      entry.free += Math.max(0, advert.slots - advert.busy)
    }
  }
  return { workers: adverts, models }
}
