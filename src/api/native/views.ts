/**
 * Gathers what a native response shows about a job or an asset (signed URLs, queue position) and hands it
 * to the pure translators. The only I/O the routes need beyond the queue calls themselves.
 * @module
 */
import type { Asset, Job } from '../../core/job.js'
import type { ApiDeps } from '../shared/deps.js'
import { linkAssets } from '../shared/generations.js'
import type { AssetBody, JobBody } from './schema.js'
import { toAssetBody, toImageLink, toJobBody } from './translate.js'

export function assetFileUrl(base: string, assetId: string): string {
  return `${base}/api/assets/${assetId}/file`
}

export async function jobView(
  deps: Pick<ApiDeps, 'config' | 'assets' | 'storage' | 'jobs'>,
  job: Job,
  base: string,
): Promise<JobBody> {
  const linked = await linkAssets(deps, job)
  const images = linked.map(({ asset, url }) => toImageLink(asset, url, assetFileUrl(base, asset.id)))
  const position = job.state === 'queued' ? await deps.jobs.position(job.id) : null
  return toJobBody(job, images, position)
}

export async function assetView(
  deps: Pick<ApiDeps, 'config' | 'storage'>,
  asset: Asset,
  base: string,
): Promise<AssetBody> {
  const url = await deps.storage.url(asset.key, deps.config.storage.urlTtlSeconds)
  return toAssetBody(asset, url, assetFileUrl(base, asset.id))
}
