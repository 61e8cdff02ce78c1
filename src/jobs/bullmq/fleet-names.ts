/**
 * Every Redis name the fleet uses, derived from one prefix so several fleets (or test runs) share a Redis
 * without seeing each other: BullMQ's key prefix, one dispatch queue per model, the event and cancel
 * channels, and the workers' heartbeat keys.
 * @module
 */

export interface FleetNames {
  /** BullMQ's key prefix (its own keys are `<prefix>:<queue>:…`). */
  readonly bullPrefix: string
  /** Every job event of the fleet, as JSON. */
  readonly eventsChannel: string
  /** Ids of running jobs whose cancel was requested. */
  readonly cancelChannel: string
  /** Pattern matching every worker's heartbeat key. */
  readonly workerKeyPattern: string
  /** The dispatch queue of one model. */
  queueFor(model: string): string
  workerKey(workerId: string): string
}

export const DEFAULT_FLEET_PREFIX = 'pigment'

export function fleetNames(prefix: string = DEFAULT_FLEET_PREFIX): FleetNames {
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) {
    throw new RangeError(`fleet prefix ${JSON.stringify(prefix)}: use letters, digits, '.', '_' or '-'`)
  }
  return {
    bullPrefix: `${prefix}:bull`,
    eventsChannel: `${prefix}:events`,
    cancelChannel: `${prefix}:cancel`,
    workerKeyPattern: `${prefix}:workers:*`,
    // BullMQ refuses ':' in queue names; model names are folder or manifest names, so encode them
    queueFor: (model) => `model-${encodeURIComponent(model).replaceAll('%', '~')}`,
    workerKey: (workerId) => `${prefix}:workers:${workerId}`,
  }
}

/** BullMQ: 1 runs first (up to 2^21); Pigment: higher runs first, -100 … 100. */
export function bullPriority(priority: number): number {
  return Math.min(2_097_152, Math.max(1, 101 - Math.round(priority)))
}
