/**
 * `pigment keys create | list | set | revoke`: API keys in the server's records database, found from the
 * same settings as `serve` (`--config`, `--data-dir`, `--database-url` and their PIGMENT_* variables), so
 * they work while the server runs (SQLite in WAL mode, or Postgres). `create` prints the token alone on
 * stdout (it is shown this once); everything else people read goes to stderr or is a table on stdout.
 * @module
 */
import { join } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { ConfigError, loadConfig } from '../../config/load.js'
import { CONFIG_FILE_ENV } from '../../config/options.js'
import type { Config } from '../../config/schema.js'
import { type DatabaseHandle, openDatabase } from '../../db/connect.js'
import {
  type ApiKeyRecord,
  creditsToMilli,
  type KeyChanges,
  keyStatus,
  milliToCredits,
  parseExpiry,
  type Role,
} from '../../keys/key-record.js'
import { KeyStore } from '../../keys/key-store.js'

export interface KeysIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly env: Readonly<Record<string, string | undefined>>
}

const PROCESS_IO: KeysIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }

interface DatabaseOptions {
  readonly config?: string
  readonly dataDir?: string
  readonly databaseUrl?: string
}

interface LimitOptions {
  readonly name?: string
  readonly role?: Role
  readonly credits?: number | Unlimited
  readonly rpm?: number | Unlimited
  readonly concurrency?: number | Unlimited
  readonly expires?: string
}

/** Commander turns a parser's `null` into '', so "no limit" travels as this word until `toChanges`. */
type Unlimited = 'unlimited'

function parseRole(value: string): Role {
  if (value !== 'admin' && value !== 'user') throw new InvalidArgumentError('must be "admin" or "user"')
  return value
}

function orUnlimited(parse: (value: string) => number) {
  return (value: string): number | Unlimited => (value === 'unlimited' ? 'unlimited' : parse(value))
}

const limitOrNull = (value: number | Unlimited): number | null => (value === 'unlimited' ? null : value)

function parseCredits(value: string): number {
  const credits = Number(value)
  if (value.trim() === '' || !Number.isFinite(credits) || credits < 0) {
    throw new InvalidArgumentError('must be a number ≥ 0 (or "unlimited")')
  }
  return credits
}

function parseCount(value: string): number {
  const count = Number(value)
  if (!/^\d+$/.test(value.trim()) || count < 1)
    throw new InvalidArgumentError('must be an integer ≥ 1 (or "unlimited")')
  return count
}

function withDatabaseOptions(command: Command): Command {
  return command
    .option('--config <file>', `the server's JSON config file [env ${CONFIG_FILE_ENV}]`)
    .option('--data-dir <dir>', "the server's data folder [env PIGMENT_DATA_DIR]")
    .option('--database-url <url>', 'sqlite:PATH or postgres://… [env PIGMENT_DATABASE_URL]')
}

function withLimitOptions(command: Command): Command {
  return command
    .option('--role <role>', 'admin or user', parseRole)
    .option(
      '--credits <credits>',
      'credit balance (up to 3 decimals); "unlimited" = no accounting',
      orUnlimited(parseCredits),
    )
    .option('--rpm <n>', 'requests per minute; "unlimited"', orUnlimited(parseCount))
    .option('--concurrency <n>', 'queued + running jobs at once; "unlimited"', orUnlimited(parseCount))
    .option('--expires <when>', 'ISO date (2027-01-31) or duration from now (30d, 12h); "never"')
}

/** The database `serve` would use with the same settings. */
function databaseUrlOf(config: Config): string {
  // Same default as src/server/compose.ts: a SQLite file in the data folder.
  return config.databaseUrl || `sqlite://${join(config.dataDir, 'pigment.db')}`
}

async function withStore<T>(
  options: DatabaseOptions,
  io: KeysIo,
  use: (store: KeyStore) => Promise<T>,
): Promise<T> {
  const config = loadConfig({
    flags: {
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.databaseUrl === undefined ? {} : { databaseUrl: options.databaseUrl }),
    },
    env: io.env,
    ...(options.config === undefined ? {} : { configFile: options.config }),
  })
  const handle: DatabaseHandle = await openDatabase(databaseUrlOf(config))
  try {
    return await use(new KeyStore(handle))
  } finally {
    await handle.close()
  }
}

function toChanges(options: LimitOptions, now: Date): KeyChanges {
  const changes: { -readonly [K in keyof KeyChanges]: KeyChanges[K] } = {}
  if (options.name !== undefined) changes.name = options.name
  if (options.role !== undefined) changes.role = options.role
  if (options.rpm !== undefined) changes.rpm = limitOrNull(options.rpm)
  if (options.concurrency !== undefined) changes.concurrency = limitOrNull(options.concurrency)
  if (options.credits !== undefined) {
    const credits = limitOrNull(options.credits)
    changes.creditsMilli = credits === null ? null : creditsToMilli(credits)
  }
  if (options.expires !== undefined) {
    changes.expiresAt = options.expires === 'never' ? null : parseExpiry(options.expires, now)
  }
  return changes
}

function describeKey(key: ApiKeyRecord, now: Date): string {
  const limit = (value: number | null) => (value === null ? 'unlimited' : String(value))
  return [
    key.id,
    key.name,
    key.role,
    keyStatus(key, now),
    key.creditsMilli === null ? 'unlimited' : String(milliToCredits(key.creditsMilli)),
    limit(key.rpm),
    limit(key.concurrency),
    key.expiresAt?.toISOString() ?? 'never',
    key.lastUsedAt?.toISOString() ?? 'never',
  ].join('\t')
}

const HEADER = 'id\tname\trole\tstatus\tcredits\trpm\tconcurrency\texpires\tlast used'

/** Runs an action and turns bad input into a one-line message and exit code 2. */
function guarded<A extends unknown[]>(io: KeysIo, action: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await action(...args)
    } catch (error) {
      if (error instanceof ConfigError || error instanceof RangeError) {
        io.stderr.write(`pigment keys: ${error.message}\n`)
        process.exitCode = 2
        return
      }
      throw error
    }
  }
}

export function keysCommand(io: KeysIo = PROCESS_IO): Command {
  const keys = new Command('keys').description(
    'API keys: create (the token is shown once), list, set, revoke',
  )

  withLimitOptions(withDatabaseOptions(keys.command('create')))
    .description('create a key and print its token on stdout (only a hash is kept)')
    .requiredOption('--name <name>', 'a name people recognize')
    .action(
      guarded(io, async (options: DatabaseOptions & LimitOptions) => {
        const now = new Date()
        const { key, token } = await withStore(options, io, (store) =>
          store.create({ ...toChanges(options, now), name: options.name ?? '' }),
        )
        io.stdout.write(`${token}\n`)
        io.stderr.write(
          `created ${key.role} key ${key.id} "${key.name}"; the token above is not shown again\n`,
        )
      }),
    )

  withDatabaseOptions(keys.command('list'))
    .description('list keys (never their secrets), tab-separated')
    .option('--json', 'print JSON instead')
    .action(
      guarded(io, async (options: DatabaseOptions & { json?: boolean }) => {
        const now = new Date()
        const all = await withStore(options, io, (store) => store.list())
        if (options.json) io.stdout.write(`${JSON.stringify(all, null, 2)}\n`)
        else io.stdout.write(`${[HEADER, ...all.map((key) => describeKey(key, now))].join('\n')}\n`)
      }),
    )

  withLimitOptions(withDatabaseOptions(keys.command('set')))
    .description("change a key's name, role, credits, limits or expiry")
    .argument('<id>', 'the key id (pk_<id>_…)')
    .option('--name <name>', 'new name')
    .action(
      guarded(io, async (id: string, options: DatabaseOptions & LimitOptions) => {
        const now = new Date()
        const key = await withStore(options, io, (store) => store.update(id, toChanges(options, now)))
        if (key === null) return notFound(io, id)
        io.stdout.write(`${HEADER}\n${describeKey(key, now)}\n`)
      }),
    )

  withDatabaseOptions(keys.command('revoke'))
    .description('revoke a key at once (its record and usage stay)')
    .argument('<id>', 'the key id (pk_<id>_…)')
    .action(
      guarded(io, async (id: string, options: DatabaseOptions) => {
        const key = await withStore(options, io, (store) => store.revoke(id))
        if (key === null) return notFound(io, id)
        io.stderr.write(`revoked key ${key.id} "${key.name}"\n`)
      }),
    )
  return keys
}

function notFound(io: KeysIo, id: string): void {
  io.stderr.write(`pigment keys: no key ${id}\n`)
  process.exitCode = 1
}
