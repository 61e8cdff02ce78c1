/**
 * Retention: every `intervalMs`, finished jobs past their expiry become `expired`, and their images and
 * asset records are deleted, bytes first, so a failed delete leaves a record that the next sweep retries
 * (its asset expiry has passed too). Images of runs that never completed expire the same way.
 * @module
 */
import type { AssetsRepo } from '../db/assets-repo.js'
import type { JobMaintenance } from '../jobs/job-queue.js'
import type { BlobStore } from '../storage/blob-store.js'
import type { WorkerLogger } from './run-job.js'

export interface SweepResult {
  readonly jobs: number
  readonly assets: number
}

export interface RetentionSweeper {
  /** One sweep now (also what the timer runs); sweeps never overlap. */
  sweep(): Promise<SweepResult>
  stop(): void
}

export interface RetentionSweeperOptions {
  readonly clock?: () => number
  readonly logger?: WorkerLogger
}

type Assets = Pick<AssetsRepo, 'getMany' | 'listExpired' | 'deleteMany'>

async function deleteAssets(assets: Assets, store: BlobStore, list: readonly { id: string; key: string }[]) {
  let deleted = 0
  for (const asset of list) {
    await store.delete(asset.key)
    deleted += (await assets.deleteMany([asset.id])).length
  }
  return deleted
}

export function startRetentionSweeper(
  queue: Pick<JobMaintenance, 'expireFinished'>,
  assets: Assets,
  store: BlobStore,
  intervalMs: number,
  options: RetentionSweeperOptions = {},
): RetentionSweeper {
  if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new RangeError('sweep interval must be ≥ 1 ms')
  const clock = options.clock ?? Date.now
  let current: Promise<SweepResult> | null = null

  const sweepOnce = async (): Promise<SweepResult> => {
    const now = new Date(clock())
    const expired = await queue.expireFinished(now)
    let removed = await deleteAssets(assets, store, await assets.getMany(expired.assetIds))
    removed += await deleteAssets(assets, store, await assets.listExpired(now))
    return { jobs: expired.jobs, assets: removed }
  }

  const sweep = (): Promise<SweepResult> => {
    current ??= sweepOnce().finally(() => {
      current = null
    })
    return current
  }

  const timer = setInterval(() => {
    sweep().then(
      (result) => {
        if (result.jobs + result.assets > 0) options.logger?.info({ ...result }, 'retention sweep')
      },
      (err: unknown) => options.logger?.warn({ err }, 'retention sweep failed'),
    )
  }, intervalMs)
  timer.unref()

  return { sweep, stop: () => clearInterval(timer) }
}
