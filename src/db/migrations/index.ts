/**
 * Migrations live in code, not in files found at run time, so they ship inside the build and run the same
 * from `src/` and `dist/`. Add a later schema change (api_keys, usage, …) as `000N-<what>.ts` and one line
 * here; never edit a migration that has shipped.
 * @module
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely'
import * as jobsAndAssets from './0001-jobs-and-assets.js'
import * as keysCreditsUsage from './0002-keys-credits-usage.js'
import * as runpodJobs from './0003-runpod-jobs.js'
import * as idempotencyKeys from './0004-idempotency-keys.js'

const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-jobs-and-assets': jobsAndAssets,
  '0002-keys-credits-usage': keysCreditsUsage,
  '0003-runpod-jobs': runpodJobs,
  '0004-idempotency-keys': idempotencyKeys,
})

class InCodeMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { ...MIGRATIONS }
  }
}

/**
 * Applies every pending migration; returns the names applied now. Throws the first failure. `schema` (Postgres)
 * is where the migration bookkeeping tables live: the one the tables go to.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, schema?: string): Promise<string[]> {
  const migrator = new Migrator({
    db: db as unknown as Kysely<unknown>,
    provider: new InCodeMigrations(),
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new Error(`database migration ${failed} failed`, { cause: error })
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}
