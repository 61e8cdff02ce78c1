/**
 * Pages of Scenario jobs, assets, models and usage, read from Pigment's queue, asset records, model
 * catalog and usage records according to the plans in `queries.ts`. Pigment keeps no asset index of its own, so an asset page
 * walks the succeeded jobs newest first and takes their images in order; its token records where it stopped
 * (job page, job, image). Every walk is bounded: a page may come back short with a token to go on.
 * @module
 */
import { isPigmentError } from '../../core/errors.js'
import type { Asset, Job } from '../../core/job.js'
import type { JobFilter } from '../../jobs/job-queue.js'
import type { UsageRepo } from '../../usage/usage-report.js'
import { requestedModel } from '../dialect-kit.js'
import type { ApiDeps } from '../shared/deps.js'
import {
  type AssetListPlan,
  type AssetPosition,
  encodeAssetToken,
  encodeOffset,
  type JobListPlan,
  type ModelListPlan,
  type UsagePlan,
} from './queries.js'
import type { ScenarioModel, UsageResponse } from './schema.js'
import { isHidden, modelTypeOf, scenarioStatus, toScenarioModel } from './translate.js'

/** Queue pages read per request before answering with what was found and a token. */
const MAX_ROUNDS = 10
/** Jobs per queue page when walking images; fixed, because an asset token points into such a page. */
const JOB_BATCH = 20

export interface JobPageResult {
  readonly jobs: readonly Job[]
  readonly nextToken?: string
}

/** Asks for exactly the jobs still missing, so the queue's cursor after each page is where this page ends. */
export async function listJobs(deps: Pick<ApiDeps, 'jobs'>, plan: JobListPlan): Promise<JobPageResult> {
  if (plan.empty) return { jobs: [] }
  const found: Job[] = []
  let cursor = plan.cursor
  for (let round = 0; round < MAX_ROUNDS && found.length < plan.pageSize; round++) {
    const page = await deps.jobs.list(plan.filter, { limit: plan.pageSize - found.length, cursor })
    for (const job of page.jobs) {
      if (plan.status !== undefined && scenarioStatus(job) !== plan.status) continue
      if (plan.excludeHidden && isHidden(job)) continue
      found.push(job)
    }
    cursor = page.nextCursor
    if (cursor === null) return { jobs: found }
  }
  return { jobs: found, ...(cursor === null ? {} : { nextToken: cursor }) }
}

export interface AssetEntry {
  readonly asset: Asset
  readonly job: Job
}

export interface AssetPageResult {
  readonly entries: readonly AssetEntry[]
  readonly nextToken?: string
}

export async function listAssets(
  deps: Pick<ApiDeps, 'jobs' | 'assets' | 'models'>,
  plan: AssetListPlan,
): Promise<AssetPageResult> {
  if (plan.empty) return { entries: [] }
  const filter = await withModel(deps, plan)
  if (filter === null) return { entries: [] }
  const keep = (asset: Asset, job: Job) =>
    !isHidden(job) &&
    (plan.createdAfter === undefined || asset.createdAt > plan.createdAfter) &&
    (plan.createdBefore === undefined || asset.createdAt < plan.createdBefore)

  if (plan.jobId !== undefined) return oneJobsAssets(deps, plan.jobId, plan, filter, keep)

  const entries: AssetEntry[] = []
  let { jobCursor, jobIndex, assetIndex } = plan.start
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const page = await deps.jobs.list(filter, { limit: JOB_BATCH, cursor: jobCursor })
    for (; jobIndex < page.jobs.length; jobIndex++, assetIndex = 0) {
      const job = page.jobs[jobIndex]
      const assets = await deps.assets.listForJob(job)
      for (; assetIndex < assets.length; assetIndex++) {
        if (!keep(assets[assetIndex], job)) continue
        if (entries.length === plan.pageSize) {
          return { entries, nextToken: encodeAssetToken({ jobCursor, jobIndex, assetIndex }) }
        }
        entries.push({ asset: assets[assetIndex], job })
      }
    }
    if (page.nextCursor === null) return { entries }
    jobCursor = page.nextCursor
    jobIndex = 0
  }
  return { entries, nextToken: encodeAssetToken({ jobCursor, jobIndex: 0, assetIndex: 0 }) }
}

/** The job filter with the model filter resolved through the registry; null when no such model exists. */
async function withModel(deps: Pick<ApiDeps, 'models'>, plan: AssetListPlan): Promise<JobFilter | null> {
  if (plan.modelId === undefined) return plan.jobFilter
  try {
    const profile = await deps.models.profile(requestedModel(plan.modelId))
    return { ...plan.jobFilter, model: profile.name }
  } catch (error) {
    if (isPigmentError(error, 'MODEL_NOT_FOUND')) return null
    throw error
  }
}

/** `inferenceId`: one job's images, paged by image index. */
async function oneJobsAssets(
  deps: Pick<ApiDeps, 'jobs' | 'assets'>,
  jobId: string,
  plan: AssetListPlan,
  filter: JobFilter,
  keep: (asset: Asset, job: Job) => boolean,
): Promise<AssetPageResult> {
  const job = await deps.jobs.get(jobId)
  if (job === null || !matchesFilter(job, filter)) return { entries: [] }
  const assets = (await deps.assets.listForJob(job)).filter((asset) => keep(asset, job))
  const start = plan.start.assetIndex
  const page = assets.slice(start, start + plan.pageSize).map((asset) => ({ asset, job }))
  const end = start + page.length
  const next: AssetPosition = { jobCursor: null, jobIndex: 0, assetIndex: end }
  return { entries: page, ...(end < assets.length ? { nextToken: encodeAssetToken(next) } : {}) }
}

function matchesFilter(job: Job, filter: JobFilter): boolean {
  const states = filter.state === undefined ? undefined : [filter.state].flat()
  return (
    (states === undefined || states.includes(job.state)) &&
    (filter.ownerKeyId === undefined || job.ownerKeyId === filter.ownerKeyId) &&
    (filter.model === undefined || job.request.model === filter.model)
  )
}

export interface ModelPageResult {
  readonly models: readonly ScenarioModel[]
  readonly nextToken?: string
}

export async function listModels(
  deps: Pick<ApiDeps, 'models'>,
  plan: ModelListPlan,
  since: Date,
): Promise<ModelPageResult> {
  if (plan.empty) return { models: [] }
  const all = (await deps.models.list()).filter(
    (model) =>
      (!plan.loadedOnly || model.loaded) &&
      (plan.types.length === 0 || plan.types.includes(modelTypeOf(model))),
  )
  const end = plan.offset + plan.pageSize
  const models = all.slice(plan.offset, end).map((model) => toScenarioModel(model, since))
  return { models, ...(end < all.length ? { nextToken: encodeOffset(end) } : {}) }
}

/** What a usage report reads: the per-day, per-model totals of ended jobs (`UsageRepo.daily`). */
export type DailyUsageSource = Pick<UsageRepo, 'daily'>

/**
 * Daily points per model (creative units, jobs) and images made per day, over the plan's range, from the
 * credit charges: they outlive the jobs' retention, and their cost is what was charged, so a report agrees
 * with the dry runs and balances. Days and jobs count by when each job ended.
 */
export async function usageReport(usage: DailyUsageSource, plan: UsagePlan): Promise<UsageResponse> {
  const byModel = new Map<string, Map<string, { milli: number; jobs: number }>>()
  const images = new Map<string, number>()
  if (!plan.empty) {
    const { from, to } = plan
    const filters =
      plan.keyIds === undefined ? [{ from, to }] : plan.keyIds.map((keyId) => ({ from, to, keyId }))
    for (const filter of filters) {
      for (const { day, model, jobs, images: made, credits } of await usage.daily(filter)) {
        const points = byModel.get(model) ?? new Map()
        const point = points.get(day) ?? { milli: 0, jobs: 0 }
        // Summed in milli-credits, the ledger's unit, so adding keys' totals adds no rounding error.
        points.set(day, { milli: point.milli + Math.round(credits * 1000), jobs: point.jobs + jobs })
        byModel.set(model, points)
        if (made > 0) images.set(day, (images.get(day) ?? 0) + made)
      }
    }
  }
  const sorted = <T>(entries: Iterable<[string, T]>) => [...entries].sort(([a], [b]) => a.localeCompare(b))
  return {
    modelUsages: sorted(byModel).map(([modelId, points]) => ({
      modelId,
      points: sorted(points).map(([time, point]) => ({
        time,
        cost: point.milli / 1000,
        discount: 0,
        jobs: point.jobs,
      })),
    })),
    usages: [
      {
        granularity: '1d',
        usageName: 'images-generation',
        points: sorted(images).map(([time, count]) => ({ time, value: String(count) })),
      },
    ],
  }
}
