/**
 * The worker's maintenance modes (seed `000_…` cheat sheet): `warmup` loads the model and answers
 * `{status: "ok", warmed: true}`; `debug` reports Pigment's paths and the free disk space under them;
 * `cleanup` wipes what Pigment caches and can rebuild — interrupted model downloads (`*.part`) in the model
 * cache. Real I/O, so it lives beside the routes, not in `translate.ts`.
 * @module
 */
import { readdir, rm, stat, statfs } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { modelsDir } from '../../pipelines/model-registry.js'
import type { ApiDeps } from '../shared/deps.js'
import type { WorkerOutput } from './schema.js'

export async function warmup(
  deps: Pick<ApiDeps, 'models'>,
  model: string | undefined,
): Promise<WorkerOutput> {
  const profile = await deps.models.profile(model)
  await deps.models.warmup(profile.name)
  return { status: 'ok', warmed: true }
}

interface DiskSpace {
  readonly free_bytes: number
  readonly total_bytes: number
}

async function diskSpace(path: string): Promise<DiskSpace | null> {
  try {
    const fs = await statfs(path)
    return { free_bytes: fs.bavail * fs.bsize, total_bytes: fs.blocks * fs.bsize }
  } catch {
    return null
  }
}

export async function debug(deps: Pick<ApiDeps, 'config' | 'models'>): Promise<WorkerOutput> {
  const dataDir = resolve(deps.config.dataDir)
  const paths = { data_dir: dataDir, images_dir: join(dataDir, 'images'), models_cache_dir: modelsDir() }
  const disk: Record<string, DiskSpace | null> = {}
  for (const [name, path] of Object.entries(paths)) disk[name] = await diskSpace(path)
  const models = (await deps.models.list()).map((model) => ({ name: model.name, loaded: model.loaded }))
  return {
    status: 'ok',
    paths,
    disk,
    models,
    workers: deps.config.workers,
    storage: deps.config.storage.kind,
  }
}

export async function cleanup(cacheDir: string = modelsDir()): Promise<WorkerOutput> {
  const removed: string[] = []
  let freed = 0
  for (const file of await partialDownloads(cacheDir)) {
    const size = (await stat(file)).size
    await rm(file, { force: true })
    removed.push(file)
    freed += size
  }
  return { status: 'ok', cleaned: true, removed_files: removed, freed_bytes: freed }
}

async function partialDownloads(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return []
  }
  const found: string[] = []
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...(await partialDownloads(path)))
    else if (entry.isFile() && entry.name.endsWith('.part')) found.push(path)
  }
  return found
}
