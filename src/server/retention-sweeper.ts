/**
 * Expires finished jobs past their retention and deletes their images, records and bytes, on a timer.
 * Also collects assets whose own expiry passed without a job to expire them (a run that crashed after
 * storing an image). Sweeps never overlap; a failed sweep is logged and the next one tries again.
 * @module
 */
import type { AssetsRepo } from '../db/assets-repo.js'
import type { JobMaintenance } from '../jobs/job-queue.js'
import type { BlobStore } from '../storage/blob-store.js'

export interface SweeperLogger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
}

export interface RetentionSweeperOptions {
  readonly queue: Pick<JobMaintenance, 'expireFinished'>
  readonly assets: Pick<AssetsRepo, 'deleteMany' | 'listExpired'>
  readonly storage: Pick<BlobStore, 'delete'>
  /** Sweep interval; default 30 s. */
  readonly everyMs?: number
  readonly logger?: SweeperLogger | undefined
}

export interface SweepResult {
  readonly jobs: number
  readonly assets: number
}

export class RetentionSweeper {
  readonly #options: RetentionSweeperOptions
  #timer: NodeJS.Timeout | null = null
  #running: Promise<SweepResult> | null = null

  constructor(options: RetentionSweeperOptions) {
    this.#options = options
  }

  start(): void {
    if (this.#timer !== null) return
    const tick = () => {
      this.sweep().catch((err: unknown) => this.#options.logger?.warn({ err }, 'retention sweep failed'))
    }
    this.#timer = setInterval(tick, this.#options.everyMs ?? 30_000)
    this.#timer.unref()
    tick()
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }

  /** One sweep now (joins a sweep already under way). */
  sweep(now: Date = new Date()): Promise<SweepResult> {
    this.#running ??= this.#sweep(now).finally(() => {
      this.#running = null
    })
    return this.#running
  }

  async #sweep(now: Date): Promise<SweepResult> {
    const { queue, assets, storage } = this.#options
    const expired = await queue.expireFinished(now)
    const removed = [...(await assets.deleteMany(expired.assetIds))]
    const orphans = await assets.listExpired(now)
    removed.push(...(await assets.deleteMany(orphans.map((asset) => asset.id))))
    for (const asset of removed) await storage.delete(asset.key)
    if (expired.jobs > 0 || removed.length > 0) {
      this.#options.logger?.info(
        { jobs: expired.jobs, assets: removed.length },
        'expired finished jobs and images',
      )
    }
    return { jobs: expired.jobs, assets: removed.length }
  }
}
