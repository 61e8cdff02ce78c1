/**
 * A loopback stand-in for the Hugging Face hub, for tests. It answers like the real one: the revision API
 * (`?blobs=true` adds sizes and hashes), the paged tree API, `resolve/` URLs that 302-redirect LFS files to a
 * separate "CDN" server with X-Linked-Size / X-Linked-Etag / X-Repo-Commit headers, Range requests, and the
 * hub's 401/403/404 answers with `X-Error-Code`.
 * @module
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeFile {
  readonly content: Buffer
  /** Stored in LFS: served through the CDN redirect, listed with a SHA-256. */
  readonly lfs?: boolean
}

export interface FakeRepo {
  readonly files: Readonly<Record<string, FakeFile>>
  readonly commit?: string
  /** Only this token may read the repo (gated). */
  readonly token?: string
  readonly revisions?: readonly string[]
}

export interface FakeHubOptions {
  readonly repos: Readonly<Record<string, FakeRepo>>
  /** Answer `?blobs=true` with sizes and hashes (the real hub does; some mirrors do not). */
  readonly blobs?: boolean
  readonly treePageSize?: number
}

export interface LoggedRequest {
  readonly server: 'hub' | 'cdn'
  readonly path: string
  readonly range: string | null
  readonly authorization: string | null
}

interface Interruption {
  readonly bytes: number
  readonly beforeDestroy?: () => Promise<void>
}

export interface FakeHub {
  readonly endpoint: string
  readonly requests: LoggedRequest[]
  /**
   * Next download of `path` sends `bytes` bytes and then destroys the socket, once `beforeDestroy` (say, "the
   * client has stored them") resolves.
   */
  interruptOnce(path: string, bytes: number, beforeDestroy?: () => Promise<void>): void
  /** Serve different bytes (same length) for `path` than the listing's hash describes. */
  corrupt(path: string): void
  close(): Promise<void>
}

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const requests: LoggedRequest[] = []
  const interruptions = new Map<string, Interruption>()
  const corrupted = new Set<string>()
  const byHash = new Map<string, { repo: string; path: string }>()
  for (const [repo, spec] of Object.entries(options.repos)) {
    for (const [path, file] of Object.entries(spec.files))
      if (file.lfs) byHash.set(sha256(file.content), { repo, path })
  }

  const log = (server: LoggedRequest['server'], req: IncomingMessage) =>
    requests.push({
      server,
      path: req.url ?? '',
      range: req.headers.range ?? null,
      authorization: req.headers.authorization ?? null,
    })

  const served = (repo: string, path: string): Buffer => {
    const content = options.repos[repo].files[path].content
    if (!corrupted.has(path)) return content
    const copy = Buffer.from(content)
    copy[0] ^= 0xff
    return copy
  }

  const cdn = createServer((req, res) => {
    log('cdn', req)
    const hash = /^\/cdn\/([0-9a-f]{64})\?/.exec(req.url ?? '')?.[1]
    const found = hash === undefined ? undefined : byHash.get(hash)
    if (found === undefined) return reply(res, 404, {}, 'no such object')
    sendContent(req, res, served(found.repo, found.path), found.path, interruptions)
  })
  const cdnOrigin = await listen(cdn)

  const hub = createServer((req, res) => {
    log('hub', req)
    const url = new URL(req.url ?? '/', 'http://hub')
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/.exec(url.pathname)
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname)
    const repoId = api?.[1] ?? resolve?.[1]
    const revision = decodeURIComponent(api?.[3] ?? resolve?.[2] ?? '')
    if (repoId === undefined) return reply(res, 404, {}, 'Not Found')
    const repo = options.repos[repoId]
    const auth = req.headers.authorization ?? null
    if (repo === undefined) {
      // The real hub hides whether a repo exists from anonymous callers.
      return auth === null
        ? reply(res, 401, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' })
        : reply(res, 404, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' })
    }
    if (repo.token !== undefined && auth !== `Bearer ${repo.token}`) {
      const message = 'Access to model is restricted. You must have access to it and be authenticated.'
      return reply(res, auth === null ? 401 : 403, {
        'x-error-code': 'GatedRepo',
        'x-error-message': message,
      })
    }
    const commit = repo.commit ?? 'c0ffee0000000000000000000000000000000000'
    const known = ['main', commit, ...(repo.revisions ?? [])]
    if (!known.includes(revision)) {
      return reply(res, 404, {
        'x-error-code': 'RevisionNotFound',
        'x-error-message': `Invalid rev id: ${revision}`,
      })
    }
    if (api?.[2] === 'revision') return sendJson(res, revisionInfo(repoId, repo, commit, url, options))
    if (api?.[2] === 'tree') return sendTreePage(res, repo, url, options.treePageSize ?? 1000)

    const path = decodeURIComponent(resolve?.[3] ?? '')
    const file = repo.files[path]
    if (file === undefined) return reply(res, 404, { 'x-error-code': 'EntryNotFound' }, 'Entry not found')
    const common = { 'x-repo-commit': commit }
    if (file.lfs) {
      const hash = sha256(file.content)
      return reply(res, 302, {
        ...common,
        location: `${cdnOrigin}/cdn/${hash}?X-Amz-Signature=fake`,
        'x-linked-size': String(file.content.length),
        'x-linked-etag': `"${hash}"`,
      })
    }
    res.setHeader('x-repo-commit', commit)
    res.setHeader('etag', `"${gitSha1(file.content)}"`)
    sendContent(req, res, served(repoId, path), path, interruptions)
  })
  const endpoint = await listen(hub)

  return {
    endpoint,
    requests,
    interruptOnce: (path, bytes, beforeDestroy) => interruptions.set(path, { bytes, beforeDestroy }),
    corrupt: (path) => corrupted.add(path),
    close: async () => {
      await Promise.all([hub, cdn].map((server) => closeServer(server)))
    },
  }
}

function revisionInfo(id: string, repo: FakeRepo, sha: string, url: URL, options: FakeHubOptions): unknown {
  const withBlobs = url.searchParams.get('blobs') === 'true' && options.blobs !== false
  const siblings = Object.entries(repo.files).map(([rfilename, file]) =>
    withBlobs
      ? {
          rfilename,
          blobId: gitSha1(file.lfs ? lfsPointer(file.content) : file.content),
          size: file.content.length,
          ...(file.lfs
            ? { lfs: { sha256: sha256(file.content), size: file.content.length, pointerSize: 130 } }
            : {}),
        }
      : { rfilename },
  )
  return { _id: 'fake', id, modelId: id, sha, private: false, gated: repo.token !== undefined, siblings }
}

function sendTreePage(res: ServerResponse, repo: FakeRepo, url: URL, pageSize: number): void {
  const entries = Object.entries(repo.files).map(([path, file]) => ({
    type: 'file',
    oid: gitSha1(file.lfs ? lfsPointer(file.content) : file.content),
    size: file.content.length,
    path,
    ...(file.lfs ? { lfs: { oid: sha256(file.content), size: file.content.length, pointerSize: 130 } } : {}),
  }))
  const start = Number(url.searchParams.get('cursor') ?? '0')
  const page = entries.slice(start, start + pageSize)
  if (start + pageSize < entries.length) {
    const next = new URL(url.href)
    next.searchParams.set('cursor', String(start + pageSize))
    res.setHeader('link', `<${next.pathname}${next.search}>; rel="next"`)
  }
  sendJson(res, page)
}

function sendContent(
  req: IncomingMessage,
  res: ServerResponse,
  content: Buffer,
  path: string,
  interruptions: Map<string, Interruption>,
): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
  const start = range === null ? 0 : Number(range[1])
  if (start > content.length) {
    reply(res, 416, { 'content-range': `bytes */${content.length}` })
    return
  }
  const body = content.subarray(start)
  res.setHeader('accept-ranges', 'bytes')
  res.setHeader('content-length', String(body.length))
  if (range !== null) res.setHeader('content-range', `bytes ${start}-${content.length - 1}/${content.length}`)
  res.writeHead(range === null ? 200 : 206)
  const interruption = interruptions.get(path)
  if (interruption === undefined) return void res.end(body)
  interruptions.delete(path)
  res.write(body.subarray(0, interruption.bytes))
  void (interruption.beforeDestroy?.() ?? Promise.resolve()).then(() => res.destroy())
}

function reply(res: ServerResponse, status: number, headers: Record<string, string>, body = ''): void {
  res.writeHead(status, headers).end(body)
}

function sendJson(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value))
}

function listen(server: Server): Promise<string> {
  return new Promise((done) => {
    server.listen(0, '127.0.0.1', () => done(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  })
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((done) => server.close(() => done()))
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex')
}

function gitSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex')
}

function lfsPointer(content: Buffer): Buffer {
  return Buffer.from(
    `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(content)}\nsize ${content.length}\n`,
  )
}
