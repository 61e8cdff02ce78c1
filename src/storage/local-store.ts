/**
 * Image bytes as files under a root folder, served by Pigment itself through expiring signed links
 * (`signed-url.ts`). Writes are atomic: a reader sees the old file or the new one, never half of one.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, resolve, sep } from 'node:path'
import { errors } from '../core/errors.js'
import { validateKey } from './blob-key.js'
import type { BlobMeta, BlobStore } from './blob-store.js'
import { type SignedUrlCheck, signedQuery, verifySignedUrl } from './signed-url.js'

export interface LocalStoreConfig {
  /** Folder holding the files (created when missing). */
  readonly root: string
  /** Where Pigment's HTTP server is reachable, e.g. `http://127.0.0.1:7860`; a function when known only after listen. */
  readonly publicBaseUrl: string | (() => string)
  /** HMAC secret for signed links (see `loadOrCreateSecret`). */
  readonly secret: string
  /** The route prefix the server serves files under (default `/files`). */
  readonly routePrefix?: string
  /** Epoch ms; injectable for tests. */
  readonly clock?: () => number
}

export class LocalStore implements BlobStore {
  readonly kind = 'local' as const
  readonly bucket = null
  readonly #root: string
  readonly #config: LocalStoreConfig

  constructor(config: LocalStoreConfig) {
    if (config.secret.length < 16) throw new RangeError('local store: the signing secret is too short')
    this.#root = resolve(config.root)
    this.#config = config
  }

  /** The file behind a key (after validation), for the HTTP route that streams it. */
  pathFor(key: string): string {
    const path = resolve(this.#root, validateKey(key))
    // validateKey already forbids escapes; this is the second lock on the same door
    if (!path.startsWith(this.#root + sep)) throw errors.STORAGE_BAD_KEY('storage key escapes the root')
    return path
  }

  async put(key: string, bytes: Uint8Array, _meta: BlobMeta): Promise<void> {
    const path = this.pathFor(key)
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`
    try {
      await mkdir(dirname(path), { recursive: true })
      await writeFile(temp, bytes)
      await rename(temp, path)
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {})
      throw errors.STORAGE_FAILED(`could not write ${key}`, { cause: error })
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    const path = this.pathFor(key)
    try {
      return new Uint8Array(await readFile(path))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw errors.STORAGE_FAILED(`could not read ${key}`, { cause: error })
    }
  }

  async url(key: string, ttlSeconds: number): Promise<string> {
    validateKey(key)
    const now = this.#config.clock?.() ?? Date.now()
    const expires = Math.floor(now / 1000) + Math.max(1, Math.ceil(ttlSeconds))
    const base =
      typeof this.#config.publicBaseUrl === 'function'
        ? this.#config.publicBaseUrl()
        : this.#config.publicBaseUrl
    const prefix = this.#config.routePrefix ?? '/files'
    return `${base.replace(/\/+$/, '')}${prefix}/${key}?${signedQuery(this.#config.secret, key, expires)}`
  }

  /** Checks a signed link's query parts for `key` with this store's secret. */
  verify(key: string, expires: string | undefined, sig: string | undefined, now?: Date): SignedUrlCheck {
    return verifySignedUrl(this.#config.secret, key, expires, sig, now)
  }

  async delete(key: string): Promise<void> {
    const path = this.pathFor(key)
    try {
      await rm(path, { force: true })
    } catch (error) {
      throw errors.STORAGE_FAILED(`could not delete ${key}`, { cause: error })
    }
  }
}
