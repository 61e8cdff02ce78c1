/**
 * `pullModel`: copies the files of a Hugging Face hub repo (or any server laid out like it, via
 * `HF_ENDPOINT`) into a local model folder, resumable and verified.
 * @module
 */
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { downloadFile } from './download-file.js'
import { HubError } from './hub-error.js'
import { DEFAULT_INCLUDE, matchesAny } from './include-patterns.js'
import { listRepoFiles, type RepoFile } from './repo-files.js'

export const DEFAULT_ENDPOINT = 'https://huggingface.co'
const REPO_ID_PATTERN = /^(?:[\w.-]+\/)?[\w.-]+$/

export interface PullOptions {
  /** `owner/name`. */
  readonly repo: string
  /** Branch, tag or commit; default `main`. */
  readonly revision?: string
  /** Glob patterns (see `include-patterns.ts`); default {@link DEFAULT_INCLUDE}. */
  readonly include?: readonly string[]
  /** Folder the repo files land in. */
  readonly dest: string
  /** Default `$HF_ENDPOINT`, else https://huggingface.co. */
  readonly endpoint?: string
  /** Default `$HF_TOKEN`. Sent only to the endpoint, never logged. */
  readonly token?: string
  /** Extra attempts per file after a broken connection; default 3. */
  readonly retries?: number
  readonly onProgress?: (progress: PullProgress) => void
  readonly signal?: AbortSignal
}

export interface PullProgress {
  readonly file: string
  /** 0-based position of `file` among the files being pulled. */
  readonly fileIndex: number
  readonly fileCount: number
  readonly fileBytes: number
  readonly fileTotal: number | null
  /** Bytes on disk over all files, including ones already complete. */
  readonly bytes: number
  /** Sum of the published sizes; null when the hub did not give every size. */
  readonly total: number | null
  readonly state: 'downloading' | 'done' | 'already-complete'
}

export interface PulledFile {
  readonly path: string
  readonly size: number | null
  readonly outcome: 'downloaded' | 'already-complete'
}

export interface PullResult {
  readonly repo: string
  readonly revision: string
  /** Commit the revision resolved to, when the hub said. */
  readonly commit: string | null
  readonly dest: string
  readonly files: readonly PulledFile[]
}

export async function pullModel(options: PullOptions): Promise<PullResult> {
  const { repo, revision = 'main', include = DEFAULT_INCLUDE, retries = 3, signal } = options
  if (!REPO_ID_PATTERN.test(repo) || repo.split('/').some((part) => part === '.' || part === '..')) {
    throw new RangeError(`repo must look like owner/name; got ${JSON.stringify(repo)}`)
  }
  const endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, '')
  const token = options.token ?? (process.env.HF_TOKEN || undefined)
  const dest = resolve(options.dest)

  const listing = await listRepoFiles({ endpoint, repo, revision, token, signal })
  const wanted = listing.files.filter((file) => matchesAny(file.path, include))
  if (wanted.length === 0) {
    throw new HubError(
      'HUB_NOT_FOUND',
      `no file of ${repo}@${revision} matches ${include.join(' ')} (the repo has ${listing.files.length} files)`,
    )
  }
  const total = wanted.every((file) => file.size !== null)
    ? wanted.reduce((sum, file) => sum + (file.size ?? 0), 0)
    : null
  const pinned = listing.commit ?? revision

  const pulled: PulledFile[] = []
  let bytesBefore = 0
  for (const [fileIndex, file] of wanted.entries()) {
    const report = (fileBytes: number, fileTotal: number | null, state: PullProgress['state']) =>
      options.onProgress?.({
        file: file.path,
        fileIndex,
        fileCount: wanted.length,
        fileBytes,
        fileTotal,
        bytes: bytesBefore + fileBytes,
        total,
        state,
      })
    const outcome = await downloadFile({
      url: resolveUrl(endpoint, repo, pinned, file.path),
      endpoint,
      token,
      file: file.path,
      target: targetPath(dest, file),
      expected: file,
      retries,
      signal,
      onBytes: (bytes, fileTotal) => report(bytes, fileTotal, 'downloading'),
    })
    const size = file.size ?? 0
    report(size, file.size, outcome === 'downloaded' ? 'done' : 'already-complete')
    bytesBefore += size
    pulled.push({ path: file.path, size: file.size, outcome })
  }
  return { repo, revision, commit: listing.commit, dest, files: pulled }
}

/** `owner/name` → `owner--name`: the model-cache folder name, as the Hugging Face cache spells it. */
export function repoFolderName(repo: string): string {
  return repo.split('/').join('--')
}

/** `{endpoint}/{repo}/resolve/{revision}/{path}`, each path segment escaped, as huggingface_hub builds it. */
export function resolveUrl(endpoint: string, repo: string, revision: string, path: string): string {
  const escapedPath = path.split('/').map(encodeURIComponent).join('/')
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${escapedPath}`
}

/** A hostile listing must not write outside `dest` (`../../.bashrc`). */
function targetPath(dest: string, file: RepoFile): string {
  const target = resolve(dest, ...file.path.split('/'))
  const inside = relative(dest, target)
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
    throw new HubError('HUB_BAD_RESPONSE', `the hub listed a file outside the repo folder: ${file.path}`, {
      file: file.path,
    })
  }
  return target
}
