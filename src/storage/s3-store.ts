/**
 * Image bytes in S3-compatible object storage (AWS, MinIO, Backblaze B2, R2 …) through AWS SDK v3, shared
 * by every machine; clients download through presigned GET links that expire.
 * @module
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { errors } from '../core/errors.js'
import { validateKey } from './blob-key.js'
import type { BlobMeta, BlobStore } from './blob-store.js'

export interface S3StoreConfig {
  readonly bucket: string
  /** Prepended to every key, e.g. `pigment/` (default none). */
  readonly prefix?: string
  readonly region?: string
  /** For non-AWS services, e.g. `http://127.0.0.1:9000`. */
  readonly endpoint?: string
  /** `bucket` in the path instead of the host name (MinIO, most self-hosted services). */
  readonly forcePathStyle?: boolean
  /** Omitted: the SDK's default chain (environment, profile, instance role). */
  readonly credentials?: {
    readonly accessKeyId: string
    readonly secretAccessKey: string
    readonly sessionToken?: string
  }
  /** Epoch ms used to sign links; injectable for tests. */
  readonly clock?: () => number
}

/** AWS caps presigned links at a week. */
const MAX_URL_SECONDS = 7 * 24 * 3600

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } }
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404
}

export class S3Store implements BlobStore {
  readonly kind = 's3' as const
  readonly bucket: string
  readonly #prefix: string
  readonly #client: S3Client
  readonly #clock: () => number

  constructor(config: S3StoreConfig) {
    this.bucket = config.bucket
    const prefix = config.prefix ?? ''
    this.#prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`
    if (this.#prefix !== '') validateKey(this.#prefix.slice(0, -1))
    const clientConfig: S3ClientConfig = {
      region: config.region ?? 'us-east-1',
      forcePathStyle: config.forcePathStyle ?? false,
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      ...(config.credentials === undefined ? {} : { credentials: { ...config.credentials } }),
    }
    this.#client = new S3Client(clientConfig)
    this.#clock = config.clock ?? Date.now
  }

  #objectKey(key: string): string {
    return this.#prefix + validateKey(key)
  }

  async put(key: string, bytes: Uint8Array, meta: BlobMeta): Promise<void> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.#objectKey(key),
      Body: bytes,
      ContentType: meta.contentType,
      ContentLength: bytes.byteLength,
    })
    try {
      await this.#client.send(command)
    } catch (error) {
      throw errors.STORAGE_FAILED(`could not write ${key} to bucket ${this.bucket}`, { cause: error })
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: this.#objectKey(key) })
    try {
      const response = await this.#client.send(command)
      if (response.Body === undefined) return new Uint8Array()
      return await response.Body.transformToByteArray()
    } catch (error) {
      if (isNotFound(error)) return null
      throw errors.STORAGE_FAILED(`could not read ${key} from bucket ${this.bucket}`, { cause: error })
    }
  }

  async url(key: string, ttlSeconds: number): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: this.#objectKey(key) })
    const expiresIn = Math.min(MAX_URL_SECONDS, Math.max(1, Math.ceil(ttlSeconds)))
    return getSignedUrl(this.#client, command, { expiresIn, signingDate: new Date(this.#clock()) })
  }

  async delete(key: string): Promise<void> {
    const command = new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#objectKey(key) })
    try {
      await this.#client.send(command)
    } catch (error) {
      if (isNotFound(error)) return
      throw errors.STORAGE_FAILED(`could not delete ${key} from bucket ${this.bucket}`, { cause: error })
    }
  }

  /** Closes the SDK's connections. */
  destroy(): void {
    this.#client.destroy()
  }
}
