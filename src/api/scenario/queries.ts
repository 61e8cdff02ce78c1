/**
 * Scenario's listing queries (`GET /jobs`, `/assets`, `/models`, `/usages`) → what to ask Pigment's stores
 * and what to filter afterwards. Pure. Filters naming things Pigment has none of (workflows, collections,
 * tags, public assets, other asset types) give an empty list rather than an error: the query is valid, it
 * matches nothing. Malformed values (dates, tokens, unknown asset types) are 400s naming the parameter.
 * @module
 */
import { errors } from '../../core/errors.js'
import type { JobState } from '../../core/job.js'
import type { JobFilter } from '../../jobs/job-queue.js'
import type { Caller } from '../auth.js'
import type {
  AssetListQuery,
  JobListQuery,
  ModelListQuery,
  ScenarioJobStatus,
  ScenarioModelType,
  UsageQuery,
} from './schema.js'
import { MODEL_TYPES } from './schema.js'
import { ANONYMOUS_AUTHOR, authorIdOf } from './translate.js'

/** The document's defaults: 10 jobs, 50 assets, 100 models per page. */
export const PAGE_SIZES = Object.freeze({ jobs: 10, assets: 50, models: 100 })

/** Scenario's asset types (the `type` query enum); Pigment's images are all `inference-txt2img`. */
export const ASSET_TYPES: readonly string[] = Object.freeze(
  (
    '3d-texture 3d-texture-albedo 3d-texture-metallic 3d-texture-mtl 3d-texture-normal 3d-texture-roughness ' +
    '3d23d 3d23d-texture audio2audio background-removal canvas canvas-drawing canvas-export detection ' +
    'generative-fill image-prompt-editing img23d img2img img2video inference-controlnet ' +
    'inference-controlnet-img2img inference-controlnet-inpaint inference-controlnet-inpaint-ip-adapter ' +
    'inference-controlnet-ip-adapter inference-controlnet-reference inference-controlnet-texture ' +
    'inference-img2img inference-img2img-ip-adapter inference-img2img-texture inference-inpaint ' +
    'inference-inpaint-ip-adapter inference-reference inference-reference-texture inference-txt2img ' +
    'inference-txt2img-ip-adapter inference-txt2img-texture patch pixelization reframe restyle segment ' +
    'segmentation-image segmentation-mask skybox-3d skybox-base-360 skybox-hdri texture texture-albedo ' +
    'texture-ao texture-edge texture-height texture-metallic texture-normal texture-smoothness txt23d ' +
    'txt2audio txt2img txt2video unknown uploaded uploaded-3d uploaded-audio uploaded-avatar uploaded-video ' +
    'upscale upscale-skybox upscale-texture upscale-video vectorization video2img video2video'
  ).split(' '),
)
export const PIGMENT_ASSET_TYPE = 'inference-txt2img'

/** Pigment states that can show as each Scenario status (`scenarioStatus` then picks exactly). */
const STATES_BY_STATUS: Readonly<Record<ScenarioJobStatus, readonly JobState[]>> = {
  pending: [],
  queued: ['queued'],
  'warming-up': ['running'],
  'in-progress': ['running'],
  finalizing: ['running'],
  success: ['succeeded', 'expired'],
  failure: ['failed', 'expired'],
  canceled: ['canceled', 'expired'],
}

function invalid(field: string, message: string) {
  return errors.REQUEST_INVALID_PARAM(`${field}: ${message}`, { field })
}

/** `a,b` or the parameter repeated → trimmed, non-empty items. */
export function listOf(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return []
  const items = typeof value === 'string' ? [value] : value
  return items
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

export function isTrue(flag: string | undefined): boolean {
  return flag === 'true' || flag === '1' || flag === ''
}

export function parseDate(field: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw invalid(field, `must be an ISO 8601 date, got ${JSON.stringify(value)}`)
  return new Date(ms)
}

/**
 * Which owner's records a caller sees, given Scenario's `authorId` filter: admins see everyone's (or the
 * named author's); other keys only their own, so naming another author matches nothing.
 */
function ownerScope(caller: Caller, authorId: string | undefined): { ownerKeyId?: string | null } | null {
  if (caller.role !== 'admin') {
    if (authorId !== undefined && authorId !== authorIdOf(caller.keyId)) return null
    return { ownerKeyId: caller.keyId }
  }
  if (authorId === undefined) return {}
  return { ownerKeyId: authorId === ANONYMOUS_AUTHOR ? null : authorId }
}

export interface JobListPlan {
  /** Nothing can match: answer an empty page without asking the queue. */
  readonly empty: boolean
  readonly filter: JobFilter
  readonly pageSize: number
  readonly cursor: string | null
  /** Exact status to keep (several Scenario statuses share a Pigment state). */
  readonly status?: ScenarioJobStatus
  /** `hideResults=false`: leave out jobs submitted with hideResults. */
  readonly excludeHidden: boolean
}

export function toJobListPlan(query: JobListQuery, caller: Caller): JobListPlan {
  const types = query.types === undefined ? listOf(query.type) : listOf(query.types)
  const scope = ownerScope(caller, query.authorId)
  const states = query.status === undefined ? undefined : STATES_BY_STATUS[query.status]
  const empty =
    scope === null ||
    query.workflowId !== undefined ||
    (types.length > 0 && !types.includes('inference')) ||
    (states !== undefined && states.length === 0)
  return {
    empty,
    filter: { ...scope, ...(states === undefined ? {} : { state: states }) },
    pageSize: query.pageSize ?? PAGE_SIZES.jobs,
    cursor: query.paginationToken ?? null,
    ...(query.status === undefined ? {} : { status: query.status }),
    excludeHidden: query.hideResults === 'false' || query.hideResults === '0',
  }
}

/** Where an asset page starts: a page of succeeded jobs, a job on it, an image of that job. */
export interface AssetPosition {
  readonly jobCursor: string | null
  readonly jobIndex: number
  readonly assetIndex: number
}

export const FIRST_ASSET: AssetPosition = Object.freeze({ jobCursor: null, jobIndex: 0, assetIndex: 0 })

export function encodeAssetToken(position: AssetPosition): string {
  const packed = [position.jobCursor, position.jobIndex, position.assetIndex]
  return Buffer.from(JSON.stringify(packed)).toString('base64url')
}

export function decodeAssetToken(token: string): AssetPosition {
  try {
    const [jobCursor, jobIndex, assetIndex] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
    const indexOk = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0
    if ((jobCursor === null || typeof jobCursor === 'string') && indexOk(jobIndex) && indexOk(assetIndex)) {
      return { jobCursor, jobIndex, assetIndex }
    }
  } catch {
    // falls through to the error below
  }
  throw invalid('paginationToken', 'is not a token this server handed out')
}

export interface AssetListPlan {
  readonly empty: boolean
  readonly pageSize: number
  readonly start: AssetPosition
  /** Succeeded jobs of the visible owners (and model, when filtered). */
  readonly jobFilter: JobFilter
  /** Only this job's images (Scenario's inference id is Pigment's job id). */
  readonly jobId?: string
  /** Registry name or alias to resolve before listing. */
  readonly modelId?: string
  readonly createdAfter?: Date
  readonly createdBefore?: Date
}

export function toAssetListPlan(query: AssetListQuery, caller: Caller): AssetListPlan {
  const types = query.types === undefined ? listOf(query.type) : listOf(query.types)
  const unknown = types.find((type) => !ASSET_TYPES.includes(type))
  if (unknown !== undefined) {
    throw invalid(query.types === undefined ? 'type' : 'types', `unknown asset type "${unknown}"`)
  }
  if (query.sortDirection === 'asc') {
    throw errors.DIALECT_UNSUPPORTED_PARAM('sortDirection: assets are listed newest first only', {
      field: 'sortDirection',
    })
  }
  // Pigment's images never change after they are made, so updated = created.
  const after = latest(
    parseDate('createdAfter', query.createdAfter),
    parseDate('updatedAfter', query.updatedAfter),
  )
  const before = earliest(
    parseDate('createdBefore', query.createdBefore),
    parseDate('updatedBefore', query.updatedBefore),
  )
  const scope = ownerScope(caller, query.authorId)
  const empty =
    scope === null ||
    (types.length > 0 && !types.includes(PIGMENT_ASSET_TYPE)) ||
    (query.privacy !== undefined && query.privacy !== 'private') ||
    [query.parentAssetId, query.rootAssetId, query.collectionId, query.tags].some(
      (value) => value !== undefined,
    )
  return {
    empty,
    pageSize: query.pageSize ?? PAGE_SIZES.assets,
    start: query.paginationToken === undefined ? FIRST_ASSET : decodeAssetToken(query.paginationToken),
    // an image is made after its job was created, so `before` also bounds the jobs
    jobFilter: { ...scope, state: 'succeeded', ...(before === undefined ? {} : { createdBefore: before }) },
    ...(query.inferenceId === undefined ? {} : { jobId: query.inferenceId }),
    ...(query.modelId === undefined ? {} : { modelId: query.modelId }),
    ...(after === undefined ? {} : { createdAfter: after }),
    ...(before === undefined ? {} : { createdBefore: before }),
  }
}

function latest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (a === undefined || b === undefined) return a ?? b
  return a > b ? a : b
}

function earliest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (a === undefined || b === undefined) return a ?? b
  return a < b ? a : b
}

export interface ModelListPlan {
  readonly empty: boolean
  readonly types: readonly ScenarioModelType[]
  readonly loadedOnly: boolean
  readonly pageSize: number
  readonly offset: number
}

export function toModelListPlan(query: ModelListQuery): ModelListPlan {
  const field = query.types === undefined ? 'type' : 'types'
  const types = query.types === undefined ? listOf(query.type) : listOf(query.types)
  const unknown = types.find((type) => !(MODEL_TYPES as readonly string[]).includes(type))
  if (unknown !== undefined) throw invalid(field, `unknown model type "${unknown}"`)
  const offset = query.paginationToken === undefined ? 0 : decodeOffset(query.paginationToken)
  const empty =
    (query.privacy !== undefined && query.privacy !== 'private') ||
    (query.status !== undefined && query.status !== 'trained') ||
    isTrue(query.blacklisted) ||
    [query.collectionId, query.collectionIds, query.tags].some((value) => value !== undefined)
  return {
    empty,
    types: types as ScenarioModelType[],
    loadedOnly: isTrue(query.loadedOnly),
    pageSize: query.pageSize ?? PAGE_SIZES.models,
    offset,
  }
}

export function encodeOffset(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url')
}

function decodeOffset(token: string): number {
  const match = /^o:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'))
  if (match === null) throw invalid('paginationToken', 'is not a token this server handed out')
  return Number(match[1])
}

/** Scenario caps a custom range at 120 days. */
const MAX_RANGE_DAYS = 120
const DAY_MS = 86_400_000
const DEFAULT_RANGE_DAYS = 30

export interface UsagePlan {
  readonly from: Date
  readonly to: Date
  /**
   * The keys whose usage is summed (null = requests made with auth off); undefined = every key. From
   * `userId` / `userIds`, narrowed to the caller's own key unless it is an admin.
   */
  readonly keyIds?: readonly (string | null)[]
  readonly empty: boolean
}

/** `startDate` + `endDate` (both or neither), else `timeRange` like `7d` or `24h`, else the last 30 days. */
export function toUsagePlan(query: UsageQuery, caller: Caller, now: Date): UsagePlan {
  const start = parseDate('startDate', query.startDate)
  const end = parseDate('endDate', query.endDate)
  if ((start === undefined) !== (end === undefined)) {
    throw invalid(start === undefined ? 'startDate' : 'endDate', 'startDate and endDate go together')
  }
  let from: Date
  let to: Date
  if (start !== undefined && end !== undefined) {
    if (end <= start) throw invalid('endDate', 'must be after startDate')
    if (end.getTime() - start.getTime() > MAX_RANGE_DAYS * DAY_MS) {
      throw invalid('endDate', `the range may span at most ${MAX_RANGE_DAYS} days`)
    }
    from = start
    to = end
  } else {
    // the bound is exclusive: one millisecond past now keeps a job that ended in this very millisecond
    to = new Date(now.getTime() + 1)
    from = new Date(now.getTime() - rangeMs(query.timeRange))
  }
  const users = [...new Set([...listOf(query.userId), ...listOf(query.userIds)])]
  if (caller.role !== 'admin') {
    const own = authorIdOf(caller.keyId)
    return { from, to, keyIds: [caller.keyId], empty: users.length > 0 && !users.includes(own) }
  }
  if (users.length === 0) return { from, to, empty: false }
  const keyIds = users.map((user) => (user === ANONYMOUS_AUTHOR ? null : user))
  return { from, to, keyIds, empty: false }
}

function rangeMs(timeRange: string | undefined): number {
  if (timeRange === undefined || timeRange === '') return DEFAULT_RANGE_DAYS * DAY_MS
  const match = /^(\d{1,4})([hd])$/.exec(timeRange)
  if (match === null) throw invalid('timeRange', `must look like 24h or 7d, got ${JSON.stringify(timeRange)}`)
  const ms = Number(match[1]) * (match[2] === 'h' ? 3_600_000 : DAY_MS)
  if (ms <= 0 || ms > MAX_RANGE_DAYS * DAY_MS)
    throw invalid('timeRange', `must be within ${MAX_RANGE_DAYS} days`)
  return ms
}
