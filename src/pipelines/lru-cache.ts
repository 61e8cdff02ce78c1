/**
 * A small least-recently-used cache (a Map keeps insertion order; a hit re-inserts the key at the end).
 * Pipelines keep prompt encodings in one, so a job that reuses a prompt skips the text encoder.
 * @module
 */
export class LruCache<K, V> {
  readonly #capacity: number
  readonly #entries = new Map<K, V>()

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`LruCache: bad capacity ${capacity}`)
    this.#capacity = capacity
  }

  get(key: K): V | undefined {
    if (!this.#entries.has(key)) return undefined
    const value = this.#entries.get(key) as V
    this.#entries.delete(key)
    this.#entries.set(key, value)
    return value
  }

  set(key: K, value: V): void {
    this.#entries.delete(key)
    this.#entries.set(key, value)
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value as K)
  }

  delete(key: K): void {
    this.#entries.delete(key)
  }

  get size(): number {
    return this.#entries.size
  }

  /** Returns the cached value, or computes, stores and returns it; a failed computation is not kept. */
  async getOrCreate(key: K, create: () => Promise<V>): Promise<V> {
    const hit = this.get(key)
    if (hit !== undefined) return hit
    const value = await create()
    this.set(key, value)
    return value
  }
}
