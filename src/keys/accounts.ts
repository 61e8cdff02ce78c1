/**
 * Keys, credits and usage over one records database, composed once by the server (and by the `keys`
 * commands): what the HTTP layer receives as `deps.accounts`, and what wraps the job queue with credit
 * accounting. Also the startup check that refuses to expose a server nobody has to log in to.
 * @module
 */
import { ConfigError } from '../config/load.js'
import type { Config } from '../config/schema.js'
import { chargeQueue } from '../credits/charged-queue.js'
import type { ModelFactors } from '../credits/cost.js'
import { CreditLedger } from '../credits/credit-ledger.js'
import { JobSettler } from '../credits/job-settlement.js'
import type { DatabaseHandle } from '../db/connect.js'
import type { JobConsumer, JobMaintenance, JobProducer } from '../jobs/job-queue.js'
import { UsageRepo } from '../usage/usage-report.js'
import { milliToCredits } from './key-record.js'
import { KeyStore } from './key-store.js'
import { isLoopbackHost } from './loopback.js'

export interface Accounts {
  readonly keys: KeyStore
  readonly ledger: CreditLedger
  readonly usage: UsageRepo
  readonly factors: ModelFactors
  /** The key's balance now, in credits; null = unlimited (or not a stored key). */
  remainingCredits(keyId: string | null): Promise<number | null>
  /** The queue with credits reserved on submit and settled when jobs end. */
  charge<Q extends JobProducer & Partial<JobConsumer & JobMaintenance>>(queue: Q): Q
}

export function openAccounts(
  database: Pick<DatabaseHandle, 'db' | 'dialect'>,
  config: Pick<Config, 'credits'>,
): Accounts {
  const keys = new KeyStore(database)
  const ledger = new CreditLedger(database)
  const factors = config.credits.modelFactors
  const settler = new JobSettler(ledger, { factors })
  return {
    keys,
    ledger,
    usage: new UsageRepo(database),
    factors,
    async remainingCredits(keyId) {
      if (keyId === null) return null
      const milli = await ledger.balance(keyId)
      return milli === null || milli === undefined ? null : milliToCredits(milli)
    },
    charge: (queue) => chargeQueue(queue, { ledger, settler, factors }),
  }
}

/**
 * Refuses to start on a non-loopback address when no key could be used (none in the configuration, none
 * usable in the database), unless the operator passed `--insecure`: such a server would be open to anyone
 * who can reach it.
 */
export async function refuseUnsafeExposure(
  config: Pick<Config, 'host' | 'insecure' | 'apiKeys'>,
  keys: Pick<KeyStore, 'hasUsableKeys'>,
): Promise<void> {
  if (config.insecure || isLoopbackHost(config.host) || config.apiKeys.length > 0) return
  if (await keys.hasUsableKeys()) return
  throw new ConfigError(
    `refusing to listen on ${config.host} with no API key: anyone who can reach it could use it. ` +
      'Create a key first (pigment keys create --name admin --role admin, with the same --data-dir or ' +
      '--database-url), give one with --api-key, listen on 127.0.0.1, or pass --insecure to serve without keys.',
  )
}
