/**
 * What the HTTP layer needs from the rest of the server, as small role interfaces. `buildApp(deps)` takes
 * these; the serve command wires the real queue, stores and models in, route tests wire fakes. Every
 * dialect plugin receives the same `ApiDeps`.
 * @module
 */
import type { Config } from '../../config/schema.js'
import type { Asset, Job } from '../../core/job.js'
import type { DatabaseHandle } from '../../db/connect.js'
import type { FleetStatusSource } from '../../fleet/fleet-status.js'
import type { ModelProfile } from '../../jobs/canonicalize.js'
import type { JobEvents, JobProducer } from '../../jobs/job-queue.js'
import type { Accounts } from '../../keys/accounts.js'
import type { BlobStore } from '../../storage/blob-store.js'
import type { Authenticator } from '../auth.js'
import type { PigmentMetrics } from './pigment-metrics.js'

export interface ModelSummary {
  readonly name: string
  readonly family: string
  readonly aliases: readonly string[]
  readonly loaded: boolean
  readonly isDefault: boolean
  readonly defaults: Readonly<Record<string, unknown>>
  readonly limits: Readonly<Record<string, unknown>>
}

/** The configured models, by name and alias. */
export interface ModelCatalog {
  list(): Promise<readonly ModelSummary[]>
  /**
   * Defaults and limits of a model by name or alias (undefined = the default model). Throws MODEL_NOT_FOUND
   * naming `model`, or MODEL_NOT_CONFIGURED when the server has no model at all.
   */
  profile(name: string | undefined): Promise<ModelProfile>
  /** Loads the model ahead of its first job; resolves once it is loaded. */
  warmup(name: string): Promise<{ readonly model: string; readonly seconds: number }>
  /** For /readyz: a model is loaded or loadable. */
  readiness(): Promise<{ readonly ready: boolean; readonly reason?: string }>
  /** Throws UNAVAILABLE when the model cannot run now (its ComfyUI is down); absent = it always can. */
  assertAvailable?(name: string): Promise<void>
  /** Whether one model can run now (its ComfyUI answers); absent = always. */
  modelReadiness?(name: string): Promise<{ readonly ready: boolean; readonly reason?: string }>
}

/** Asset records (the bytes live in the BlobStore under `asset.key`). */
export interface AssetRecords {
  get(id: string): Promise<Asset | null>
  /**
   * The images a job lists as its own (`job.assetIds`, in that order) that still have a record. Records of
   * the job's earlier, failed attempts share its job id but are not among them, so they never show.
   */
  listForJob(job: Pick<Job, 'id' | 'assetIds'>): Promise<readonly Asset[]>
  /** Newest first, of one owner (null = made with auth off) or of all (undefined); cursor from the last page. */
  list(
    filter: { readonly ownerKeyId?: string | null },
    page: { readonly limit: number; readonly cursor: string | null },
  ): Promise<{ readonly assets: readonly Asset[]; readonly nextCursor: string | null }>
  /** Removes the record and its bytes; null when unknown. */
  delete(id: string): Promise<Asset | null>
}

/** Serves local-store images through signed URLs (absent with S3, whose URLs point at the bucket). */
export interface SignedFiles {
  /** The storage key a signed `/files/…` URL grants; throws STORAGE_BAD_SIGNATURE / STORAGE_URL_EXPIRED. */
  verify(pathAndQuery: string): string
}

/** Runs a raw ComfyUI workflow (RunPod's `comfy` passthrough); absent without a ComfyUI backend. */
export interface ComfyWorkflowRunner {
  run(
    graph: Readonly<Record<string, unknown>>,
    images: readonly { readonly name: string; readonly image: string }[],
    signal?: AbortSignal,
  ): Promise<{
    readonly promptId: string
    readonly device: string
    readonly images: readonly { readonly filename: string; readonly bytes: Uint8Array }[]
  }>
}

export interface ServerState {
  /** False once shutdown began: new generations get 503 while running ones finish. */
  readonly accepting: boolean
}

export interface ApiDeps {
  readonly config: Config
  readonly jobs: JobProducer & JobEvents
  readonly assets: AssetRecords
  readonly storage: BlobStore
  readonly signedFiles?: SignedFiles
  readonly models: ModelCatalog
  /** RunPod's `comfy` passthrough runs raw workflows here (absent: it answers 501). */
  readonly comfy?: ComfyWorkflowRunner
  readonly authenticate: Authenticator
  /** API keys, credits and usage (absent in route tests on fakes: no admin or usage routes then). */
  readonly accounts?: Accounts
  readonly metrics: PigmentMetrics
  /** Fleet mode (`--queue redis://…`): live workers, slots per model and queue depth, for /readyz. */
  readonly fleet?: FleetStatusSource
  /**
   * The records database, for a dialect's own per-job state that must outlive the process (RunPod's
   * webhooks and execution policy). Absent in route tests on fakes.
   */
  readonly records?: Pick<DatabaseHandle, 'db'>
  /** Throws when the records database cannot be reached (for /readyz). */
  probeDatabase(): Promise<void>
  readonly state: ServerState
}
