/**
 * Downloads one repo file to `<target>.part`, resuming with `Range:` from whatever a previous attempt left,
 * verifies it against the published size and hash, then renames it into place (atomic on one filesystem).
 * A broken connection keeps the part file so the next attempt, or the next run, carries on from there.
 * @module
 */
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { checkContent, type ExpectedContent } from './file-digest.js'
import { errorForResponse, HubError } from './hub-error.js'
import { describeCause, hubFetch } from './hub-fetch.js'

export interface DownloadRequest {
  readonly url: string
  readonly endpoint: string
  readonly token?: string
  /** Repo-relative path, for messages. */
  readonly file: string
  readonly target: string
  readonly expected: ExpectedContent
  /** Extra attempts after a broken connection or a 5xx/429 answer. */
  readonly retries: number
  readonly onBytes?: (bytesOnDisk: number, total: number | null) => void
  readonly signal?: AbortSignal
}

export type DownloadOutcome = 'downloaded' | 'already-complete'

const RETRY_DELAY_MS = 250

export async function downloadFile(request: DownloadRequest): Promise<DownloadOutcome> {
  const { target, file } = request
  if ((await sizeOf(target)) !== null && (await checkContent(target, request.expected)).ok) {
    return 'already-complete'
  }
  await mkdir(dirname(target), { recursive: true })
  const part = `${target}.part`
  let expected = request.expected

  for (let attempt = 0; ; attempt++) {
    try {
      expected = await fetchIntoPart(request, part, expected)
      break
    } catch (error) {
      const transient =
        error instanceof HubError && (error.code === 'HUB_NETWORK' || isRetryableStatus(error.status))
      if (!transient || attempt >= request.retries || request.signal?.aborted) throw error
      await sleep(RETRY_DELAY_MS * (attempt + 1), undefined, { signal: request.signal })
    }
  }

  const check = await checkContent(part, expected)
  if (!check.ok) {
    await rm(part, { force: true })
    throw new HubError(
      'HUB_INTEGRITY',
      `${file}: ${check.what} mismatch (expected ${check.expected}, got ${check.actual}); deleted the download, run again to retry`,
      { file, url: request.url },
    )
  }
  await rename(part, target)
  return 'downloaded'
}

/** One HTTP attempt. Returns the expectations, completed from the hub's headers where the listing lacked them. */
async function fetchIntoPart(
  request: DownloadRequest,
  part: string,
  expected: ExpectedContent,
): Promise<ExpectedContent> {
  let offset = (await sizeOf(part)) ?? 0
  if (expected.size !== null && offset > expected.size) {
    await rm(part, { force: true })
    offset = 0
  }
  if (expected.size !== null && offset === expected.size) return expected

  const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {}
  const { response, url, firstHeaders } = await hubFetch({ ...request, headers })
  const completed = completeExpectations(expected, firstHeaders)
  if (response.status === 416) {
    // The part is at least as long as the file: start over rather than guess.
    await response.body?.cancel()
    await rm(part, { force: true })
    throw new HubError(
      'HUB_NETWORK',
      `${request.file}: server refused to resume from byte ${offset} at ${url}`,
      {
        url,
        status: 416,
        file: request.file,
      },
    )
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel()
    throw errorForResponse(response, url, `file ${request.file}`, Boolean(request.token))
  }
  const resumed = response.status === 206
  if (resumed && contentRangeStart(response) !== offset) {
    await response.body.cancel()
    await rm(part, { force: true })
    throw new HubError('HUB_NETWORK', `${request.file}: ${url} sent a range other than the one asked for`, {
      url,
      file: request.file,
    })
  }
  let written = resumed ? offset : 0
  const total = completed.size ?? lengthFromResponse(response, written)
  // Each chunk is on disk before the next is read, so a broken connection loses nothing already received.
  const handle = await open(part, resumed ? 'a' : 'w')
  try {
    for await (const chunk of response.body) {
      await handle.write(chunk)
      written += chunk.length
      request.onBytes?.(written, total)
    }
  } catch (error) {
    if (request.signal?.aborted) throw error
    throw new HubError(
      'HUB_NETWORK',
      `download of ${request.file} broke at byte ${written} (${describeCause(error)}) from ${url}; run again to resume`,
      { url, file: request.file, cause: error },
    )
  } finally {
    await handle.close()
  }
  if (total !== null && written < total) {
    throw new HubError(
      'HUB_NETWORK',
      `download of ${request.file} ended early at byte ${written} of ${total} from ${url}; run again to resume`,
      { url, file: request.file },
    )
  }
  return completed
}

/** The hub's redirect for an LFS file carries its size and SHA-256 as X-Linked-Size / X-Linked-Etag. */
function completeExpectations(expected: ExpectedContent, hubHeaders: Headers): ExpectedContent {
  const linkedSize = Number(hubHeaders.get('x-linked-size') ?? Number.NaN)
  const linkedEtag = (hubHeaders.get('x-linked-etag') ?? '')
    .replace(/^W\//, '')
    .replace(/"/g, '')
    .toLowerCase()
  return {
    size: expected.size ?? (Number.isSafeInteger(linkedSize) && linkedSize >= 0 ? linkedSize : null),
    sha256: expected.sha256 ?? (/^[0-9a-f]{64}$/.test(linkedEtag) ? linkedEtag : null),
    gitSha1: expected.gitSha1,
  }
}

function contentRangeStart(response: Response): number | null {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '')
  return match === null ? null : Number(match[1])
}

function lengthFromResponse(response: Response, alreadyOnDisk: number): number | null {
  const length = Number(response.headers.get('content-length') ?? Number.NaN)
  return Number.isSafeInteger(length) ? alreadyOnDisk + length : null
}

function isRetryableStatus(status: number | undefined): boolean {
  return status === 416 || status === 429 || (status !== undefined && status >= 500)
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size
  } catch {
    return null
  }
}
