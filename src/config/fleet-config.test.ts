import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './load.js'

const FLEET = {
  queueUrl: 'redis://127.0.0.1:6379',
  databaseUrl: 'postgres://postgres@127.0.0.1/test',
  'storage.kind': 's3',
  'storage.bucket': 'images',
}

function load(flags: Record<string, string>, env: Record<string, string> = {}) {
  return loadConfig({ flags, env, cwd: '/tmp' })
}

describe('fleet settings (--queue redis://…)', () => {
  it('refuses local storage and SQLite, naming the flag that fixes it', () => {
    expect(() => load({ ...FLEET, 'storage.kind': 'local' })).toThrow(
      /--queue redis:\/\/… needs --storage s3/,
    )
    expect(() => load({ ...FLEET, databaseUrl: 'sqlite:x.db' })).toThrow(/needs --database-url postgres/)
    expect(() => load({ ...FLEET, queueUrl: 'http://x' })).toThrow(ConfigError)
  })

  it('runs no in-process workers unless asked, and shares rate-limit counts through the fleet Redis', () => {
    const config = load(FLEET)
    expect(config.workers).toBe(0)
    expect(config.rateLimit).toMatchObject({ store: 'redis', redisUrl: FLEET.queueUrl })
    expect(load({ ...FLEET, workers: '2' }).workers).toBe(2)
    expect(load(FLEET, { PIGMENT_RATE_LIMIT_STORE: 'memory' }).rateLimit.store).toBe('memory')
    expect(load({ ...FLEET, workerLockSeconds: '3s' }).workerLockSeconds).toBe(3)
  })

  it('leaves the single-process defaults alone without --queue', () => {
    const config = load({})
    expect(config.workers).toBe(1)
    expect(config.rateLimit.store).toBe('memory')
  })
})
