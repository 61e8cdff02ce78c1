/**
 * One service a worker depends on (the records database, Redis) going away and coming back. The first
 * error that a probe confirms as an outage logs one line and calls `onDown` (stop taking work); the gate
 * then probes with exponential backoff, swallowing the errors that the outage causes meanwhile, and once a
 * probe answers logs one line with how long it lasted and calls `onUp`. An error while the service answers
 * its probe is a real error: `report` says so and the caller logs it as before.
 * @module
 */
import type { WorkerLogger } from './run-job.js'

export interface OutageGateOptions {
  /** Named in the log lines, e.g. `records database`. */
  readonly service: string
  /** Resolves when the service answers; rejects (or times out) while it does not. */
  readonly probe: () => Promise<unknown>
  readonly logger: WorkerLogger
  /** Errors known to mean an outage without a probe (refused or dropped connections). */
  readonly isOutage?: (error: unknown) => boolean
  readonly onDown?: () => void
  readonly onUp?: () => void
  /** First retry delay (default 500 ms), doubled up to `maxDelayMs` (default 10 s). */
  readonly minDelayMs?: number
  readonly maxDelayMs?: number
  /** A probe that takes longer counts as failed (default 5 s). */
  readonly probeTimeoutMs?: number
  readonly clock?: () => number
}

export class OutageGate {
  readonly #options: OutageGateOptions
  readonly #clock: () => number
  #downSince: number | null = null
  #timer: NodeJS.Timeout | null = null
  #stopped = false

  constructor(options: OutageGateOptions) {
    this.#options = options
    this.#clock = options.clock ?? Date.now
  }

  /** True between the first confirmed failure and the first probe that answers. */
  get down(): boolean {
    return this.#downSince !== null
  }

  /**
   * Tells the gate about an error from the service. True when it belongs to an outage (already logged,
   * or logged now); false when the service answers, so the error is the caller's to report.
   */
  async report(error: unknown): Promise<boolean> {
    if (this.down) return true
    if (this.#options.isOutage?.(error) !== true && (await this.#answers())) return false
    this.#enter(error)
    return true
  }

  /** Stops probing (shutdown); the gate stays as it is. */
  stop(): void {
    this.#stopped = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  #enter(error: unknown): void {
    if (this.down || this.#stopped) return
    this.#downSince = this.#clock()
    const message = error instanceof Error ? error.message : String(error)
    this.#options.logger.warn(
      { service: this.#options.service, reason: message },
      `${this.#options.service} unreachable: taking no new jobs, retrying with backoff until it answers`,
    )
    this.#options.onDown?.()
    this.#retry(this.#options.minDelayMs ?? 500)
  }

  #retry(delayMs: number): void {
    if (this.#stopped) return
    this.#timer = setTimeout(async () => {
      this.#timer = null
      if (this.#stopped) return
      if (await this.#answers()) this.#leave()
      else this.#retry(Math.min(delayMs * 2, this.#options.maxDelayMs ?? 10_000))
    }, delayMs)
  }

  #leave(): void {
    const since = this.#downSince ?? this.#clock()
    this.#downSince = null
    this.#options.logger.info(
      { service: this.#options.service, downSeconds: Math.round((this.#clock() - since) / 100) / 10 },
      `${this.#options.service} reachable again: taking jobs`,
    )
    this.#options.onUp?.()
  }

  async #answers(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('probe timed out')), this.#options.probeTimeoutMs ?? 5000)
    })
    try {
      await Promise.race([this.#options.probe(), timeout])
      return true
    } catch {
      return false
    } finally {
      clearTimeout(timer)
    }
  }
}
