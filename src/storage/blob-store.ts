/**
 * Where image bytes live. Local disk by default; S3-compatible object storage for many machines.
 * Every implementation passes the same contract suite (`blob-store.contract.ts`).
 * @module
 */

export interface BlobMeta {
  readonly contentType: string
}

export interface BlobStore {
  readonly kind: 'local' | 's3'
  put(key: string, bytes: Uint8Array, meta: BlobMeta): Promise<void>
  /** null when absent; errors are real failures. */
  get(key: string): Promise<Uint8Array | null>
  /** A URL anyone holding it can GET until it expires. */
  url(key: string, ttlSeconds: number): Promise<string>
  /** Idempotent. */
  delete(key: string): Promise<void>
  /** Where the bytes are, for clients that want it (bucket for S3, null for local). */
  readonly bucket: string | null
}
