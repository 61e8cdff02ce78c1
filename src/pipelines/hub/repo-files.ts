/**
 * Lists a hub repo's files with the sizes and hashes needed to verify downloads.
 *
 * `GET /api/models/{repo}/revision/{rev}?blobs=true` answers in one call with the commit `sha` and
 * `siblings[]` of `{ rfilename, size, blobId, lfs?: { sha256, size } }`. Mirrors that ignore `blobs` get a
 * second pass through `GET /api/models/{repo}/tree/{sha}?recursive=true` (paged by `Link: rel="next"`),
 * whose entries are `{ type, path, size, oid, lfs?: { oid, size } }`.
 * @module
 */
import { errorForResponse, HubError } from './hub-error.js'
import { hubFetch } from './hub-fetch.js'

export interface RepoFile {
  /** Repo-relative path with forward slashes. */
  readonly path: string
  /** Bytes, when the hub said. */
  readonly size: number | null
  /** SHA-256 of the content: LFS files only. */
  readonly sha256: string | null
  /** Git blob SHA-1 of the content: non-LFS files only (for LFS files the blob is the pointer). */
  readonly gitSha1: string | null
}

export interface RepoListing {
  /** Commit the revision resolved to; downloads pin it so a moving branch cannot mix two commits. */
  readonly commit: string | null
  readonly files: readonly RepoFile[]
}

export interface RepoQuery {
  readonly endpoint: string
  readonly repo: string
  readonly revision: string
  readonly token?: string
  readonly signal?: AbortSignal
}

const MAX_TREE_PAGES = 1000

export async function listRepoFiles(query: RepoQuery): Promise<RepoListing> {
  const url = `${apiBase(query)}/revision/${encodeURIComponent(query.revision)}?blobs=true`
  const body = await getJson(query, url)
  const siblings = isRecord(body) && Array.isArray(body.siblings) ? body.siblings : null
  if (siblings === null) throw badResponse(url, 'no "siblings" list')
  const commit = isRecord(body) && typeof body.sha === 'string' ? body.sha : null
  const files = siblings.filter(isRecord).flatMap((entry): RepoFile[] => {
    if (typeof entry.rfilename !== 'string') return []
    const lfs = isRecord(entry.lfs) ? entry.lfs : null
    return [
      {
        path: entry.rfilename,
        size: numberOrNull(lfs?.size ?? entry.size),
        sha256: stringOrNull(lfs?.sha256),
        gitSha1: lfs === null ? stringOrNull(entry.blobId) : null,
      },
    ]
  })
  if (files.every((file) => file.size !== null)) return { commit, files }
  const tree = await listTree(query, commit ?? query.revision)
  return { commit, files: files.map((file) => tree.get(file.path) ?? file) }
}

async function listTree(query: RepoQuery, revision: string): Promise<Map<string, RepoFile>> {
  const files = new Map<string, RepoFile>()
  let url: string | null = `${apiBase(query)}/tree/${encodeURIComponent(revision)}?recursive=true`
  for (let page = 0; url !== null && page < MAX_TREE_PAGES; page++) {
    const { body, next } = await getJsonPage(query, url)
    if (!Array.isArray(body)) throw badResponse(url, 'the tree is not a list')
    for (const entry of body.filter(isRecord)) {
      if (entry.type !== 'file' || typeof entry.path !== 'string') continue
      const lfs = isRecord(entry.lfs) ? entry.lfs : null
      files.set(entry.path, {
        path: entry.path,
        size: numberOrNull(lfs?.size ?? entry.size),
        sha256: stringOrNull(lfs?.oid),
        gitSha1: lfs === null ? stringOrNull(entry.oid) : null,
      })
    }
    url = next
  }
  return files
}

function apiBase(query: RepoQuery): string {
  return `${query.endpoint.replace(/\/+$/, '')}/api/models/${query.repo}`
}

async function getJson(query: RepoQuery, url: string): Promise<unknown> {
  return (await getJsonPage(query, url)).body
}

async function getJsonPage(query: RepoQuery, url: string): Promise<{ body: unknown; next: string | null }> {
  const { response } = await hubFetch({ ...query, url, headers: { accept: 'application/json' } })
  if (!response.ok) {
    await response.body?.cancel()
    throw errorForResponse(response, url, `repo ${query.repo}@${query.revision}`, Boolean(query.token))
  }
  let body: unknown
  try {
    body = await response.json()
  } catch (error) {
    throw new HubError('HUB_BAD_RESPONSE', `${url} did not answer JSON`, { url, cause: error })
  }
  const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')
  return { body, next: next === null ? null : new URL(next[1], url).href }
}

function badResponse(url: string, why: string): HubError {
  return new HubError('HUB_BAD_RESPONSE', `unexpected answer from ${url}: ${why}`, { url })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value.toLowerCase() : null
}
