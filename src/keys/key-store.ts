/**
 * API keys in the records database. Secrets never reach this table: `create` returns the token once and
 * keeps only its hash. The `keys` commands and a running server share the table (SQLite in WAL mode or
 * Postgres), so a key made or revoked on the command line takes effect on the next request.
 * @module
 */
import { type Kysely, sql } from 'kysely'
import { newId } from '../core/ids.js'
import type { DialectName } from '../db/connect.js'
import type { ApiKeyRow, Database } from '../db/schema.js'
import type { ApiKeyRecord, KeyChanges, NewKey, Role } from './key-record.js'
import { generateKeyToken, secretMatches } from './key-token.js'

/** What `authenticate` learns about a presented key. */
export type KeyLookup =
  | { readonly outcome: 'ok'; readonly key: ApiKeyRecord }
  | { readonly outcome: 'unknown' | 'revoked' | 'expired' }

export interface KeyStoreOptions {
  readonly clock?: () => number
}

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms)
}

export function rowToKey(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    createdAt: new Date(row.created_at),
    lastUsedAt: dateOrNull(row.last_used_at),
    expiresAt: dateOrNull(row.expires_at),
    revokedAt: dateOrNull(row.revoked_at),
    creditsMilli: row.credits_milli,
    rpm: row.rpm,
    concurrency: row.concurrency,
    activeJobs: row.active_jobs,
  }
}

export class KeyStore {
  readonly #db: Kysely<Database>
  readonly #clock: () => number

  constructor(
    handle: { readonly db: Kysely<Database>; readonly dialect: DialectName },
    options: KeyStoreOptions = {},
  ) {
    this.#db = handle.db
    this.#clock = options.clock ?? Date.now
  }

  /** Stores a new key and returns it with its token, which is shown once and never again. */
  async create(input: NewKey): Promise<{ readonly key: ApiKeyRecord; readonly token: string }> {
    const { token, id, secretHash } = generateKeyToken()
    const now = this.#clock()
    const row: ApiKeyRow = {
      id,
      name: input.name,
      role: input.role ?? 'user',
      secret_hash: secretHash,
      created_at: now,
      last_used_at: null,
      expires_at: input.expiresAt?.getTime() ?? null,
      revoked_at: null,
      credits_milli: input.creditsMilli ?? null,
      rpm: input.rpm ?? null,
      concurrency: input.concurrency ?? null,
      active_jobs: 0,
    }
    await this.#db.transaction().execute(async (trx) => {
      await trx.insertInto('api_keys').values(row).execute()
      if (row.credits_milli !== null && row.credits_milli !== 0) {
        await insertLedger(trx, {
          keyId: id,
          chargeId: null,
          kind: 'grant',
          amountMilli: row.credits_milli,
          now,
        })
      }
    })
    return { key: rowToKey(row), token }
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const row = await this.#db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst()
    return row === undefined ? null : rowToKey(row)
  }

  /** Every key, oldest first (revoked and expired ones too: their history stays readable). */
  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.#db
      .selectFrom('api_keys')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute()
    return rows.map(rowToKey)
  }

  /** Checks a presented id and secret; the caller decides what each outcome means to the client. */
  async lookup(id: string, secret: string): Promise<KeyLookup> {
    const row = await this.#db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst()
    if (row === undefined || !secretMatches(secret, row.secret_hash)) return { outcome: 'unknown' }
    if (row.revoked_at !== null) return { outcome: 'revoked' }
    if (row.expires_at !== null && row.expires_at <= this.#clock()) return { outcome: 'expired' }
    return { outcome: 'ok', key: rowToKey(row) }
  }

  /** Whether any key could be used now: with none, a loopback server runs open. */
  async hasUsableKeys(): Promise<boolean> {
    const now = this.#clock()
    const row = await this.#db
      .selectFrom('api_keys')
      .select('id')
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .limit(1)
      .executeTakeFirst()
    return row !== undefined
  }

  async touch(id: string, at: number = this.#clock()): Promise<void> {
    await this.#db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute()
  }

  /** Revokes the key at once; null when unknown. Revoking twice keeps the first time. */
  async revoke(id: string): Promise<ApiKeyRecord | null> {
    await this.#db
      .updateTable('api_keys')
      .set({ revoked_at: this.#clock() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute()
    return this.get(id)
  }

  /**
   * Applies an admin's changes; null when unknown. A new balance is written with a ledger entry for the
   * difference, in the same transaction as a row lock, so it cannot interleave with a reservation.
   */
  async update(id: string, changes: KeyChanges): Promise<ApiKeyRecord | null> {
    const now = this.#clock()
    return this.#db.transaction().execute(async (trx) => {
      // A no-op write first: it takes the row lock (Postgres) or the write lock (SQLite) before the read,
      // so a reservation cannot slip between reading the balance and writing the new one.
      const current = await trx
        .updateTable('api_keys')
        .set({ id: sql<string>`id` })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst()
      if (current === undefined) return null
      const next: Partial<ApiKeyRow> = {}
      if (changes.name !== undefined) next.name = changes.name
      if (changes.role !== undefined) next.role = changes.role
      if (changes.rpm !== undefined) next.rpm = changes.rpm
      if (changes.concurrency !== undefined) next.concurrency = changes.concurrency
      if (changes.expiresAt !== undefined) next.expires_at = changes.expiresAt?.getTime() ?? null
      if (changes.creditsMilli !== undefined) {
        next.credits_milli = changes.creditsMilli
        // The ledger of an unlimited key sums to 0, so the difference keeps "balance = sum of entries".
        const amountMilli = (changes.creditsMilli ?? 0) - (current.credits_milli ?? 0)
        const kind = current.credits_milli === null ? 'grant' : 'adjust'
        if (amountMilli !== 0) await insertLedger(trx, { keyId: id, chargeId: null, kind, amountMilli, now })
      }
      if (Object.keys(next).length > 0)
        await trx.updateTable('api_keys').set(next).where('id', '=', id).execute()
      const row = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
      return rowToKey(row)
    })
  }

  /** Adds (or with a negative amount, takes) credits atomically; never below zero. Null when not possible. */
  async addCredits(id: string, amountMilli: number): Promise<ApiKeyRecord | null> {
    const now = this.#clock()
    return this.#db.transaction().execute(async (trx) => {
      const changed = await trx
        .updateTable('api_keys')
        .set({ credits_milli: sql<number>`credits_milli + ${amountMilli}` })
        .where('id', '=', id)
        .where('credits_milli', 'is not', null)
        .where('credits_milli', '>=', -amountMilli)
        .executeTakeFirst()
      if (Number(changed.numUpdatedRows) === 0) return null
      await insertLedger(trx, { keyId: id, chargeId: null, kind: 'adjust', amountMilli, now })
      const row = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
      return rowToKey(row)
    })
  }
}

export type LedgerKind = 'grant' | 'adjust' | 'reserve' | 'settle' | 'refund'

export interface LedgerEntry {
  readonly keyId: string
  readonly chargeId: string | null
  readonly kind: LedgerKind
  readonly amountMilli: number
  readonly now: number
}

/** Appends one ledger entry (inside the caller's transaction). */
export async function insertLedger(db: Kysely<Database>, entry: LedgerEntry): Promise<void> {
  await db
    .insertInto('credit_ledger')
    .values({
      id: newId(entry.now),
      key_id: entry.keyId,
      charge_id: entry.chargeId,
      kind: entry.kind,
      amount_milli: entry.amountMilli,
      created_at: entry.now,
    })
    .execute()
}
