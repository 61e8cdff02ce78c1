import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './load.js'
import { parseBytes, parseDuration } from './parse-value.js'

const cwd = '/srv/pigment'

function writeConfigFile(contents: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'pigment-config-'))
  const path = join(dir, 'pigment.json')
  writeFileSync(path, typeof contents === 'string' ? contents : JSON.stringify(contents))
  return path
}

describe('loadConfig', () => {
  it('starts from the embedded defaults', () => {
    const config = loadConfig({ env: {}, cwd })
    expect(config.host).toBe('127.0.0.1')
    expect(config.port).toBe(7860)
    expect(config.dataDir).toBe('/srv/pigment/.pigment-data')
    expect(config.workers).toBe(1)
    expect(config.retentionSeconds).toBe(3600)
    expect(config.storage.kind).toBe('local')
    expect(config.limits.maxImages).toBe(8)
  })

  it('layers file < environment < flags', () => {
    const configFile = writeConfigFile({
      port: 1000,
      workers: 3,
      retentionSeconds: 60,
      storage: { region: 'eu' },
    })
    const config = loadConfig({
      configFile,
      env: { PIGMENT_PORT: '2000', PIGMENT_RETENTION: '2h' },
      flags: { port: '3000' },
      cwd,
    })
    expect(config.port).toBe(3000)
    expect(config.retentionSeconds).toBe(7200)
    expect(config.workers).toBe(3)
    expect(config.storage.region).toBe('eu')
    expect(config.storage.kind).toBe('local')
  })

  it('reads the config file named by PIGMENT_CONFIG and resolves its paths against the file', () => {
    const configFile = writeConfigFile({ dataDir: 'data', models: ['./models/a', 'registry-name'] })
    const config = loadConfig({ env: { PIGMENT_CONFIG: configFile }, cwd })
    const dir = configFile.slice(0, configFile.lastIndexOf('/'))
    expect(config.dataDir).toBe(join(dir, 'data'))
    expect(config.models).toEqual([join(dir, 'models/a'), 'registry-name'])
  })

  it('takes repeatable flags and comma-separated environment lists', () => {
    const fromEnv = loadConfig({ env: { PIGMENT_MODELS: 'a, ./b', PIGMENT_ALIASES: 'chroma=a' }, cwd })
    expect(fromEnv.models).toEqual(['a', '/srv/pigment/b'])
    expect(fromEnv.aliases).toEqual({ chroma: 'a' })
    const fromFlags = loadConfig({
      env: { PIGMENT_MODELS: 'a' },
      flags: { models: ['/m/x', '/m/y'], aliases: ['chroma=x', 'flux=y'] },
      cwd,
    })
    expect(fromFlags.models).toEqual(['/m/x', '/m/y'])
    expect(fromFlags.aliases).toEqual({ chroma: 'x', flux: 'y' })
  })

  it('accepts switches and their negation', () => {
    expect(loadConfig({ flags: { logPrompts: false }, cwd }).logPrompts).toBe(false)
    expect(loadConfig({ cwd }).bundledModels).toBe(true)
    expect(loadConfig({ flags: { bundledModels: false }, cwd }).bundledModels).toBe(false)
    expect(loadConfig({ env: { PIGMENT_BUNDLED_MODELS: 'false' }, cwd }).bundledModels).toBe(false)
    const configFile = writeConfigFile({ bundledModels: false })
    expect(loadConfig({ configFile, cwd }).bundledModels).toBe(false)
    expect(loadConfig({ env: { PIGMENT_S3_FORCE_PATH_STYLE: 'yes' }, cwd }).storage.forcePathStyle).toBe(true)
  })

  it('names the first bad value and where it came from', () => {
    expect(() => loadConfig({ flags: { port: 'abc' }, cwd })).toThrow(/port \(from flag --port\).*integer/)
    expect(() => loadConfig({ env: { PIGMENT_PORT: '70000' }, cwd })).toThrow(
      /port \(from environment PIGMENT_PORT\)/,
    )
    expect(() => loadConfig({ flags: { logLevel: 'loud' }, cwd })).toThrow(/logLevel.*one of fatal, error/)
    expect(() => loadConfig({ flags: { retentionSeconds: 'soon' }, cwd })).toThrow(
      /retentionSeconds.*duration/,
    )
    expect(() => loadConfig({ flags: { workers: '-1' }, cwd })).toThrow(ConfigError)
    expect(() => loadConfig({ flags: { webhookAllow: ['10.0.0.0/8,10.0.0.0/99'] }, cwd })).toThrow(
      /webhookAllow \(from flag --webhook-allow\): "10.0.0.0\/99" is not a valid address range/,
    )
    expect(
      loadConfig({ env: { PIGMENT_WEBHOOK_ALLOWS: '10.0.0.0/8,hooks.internal' }, cwd }).webhookAllow,
    ).toEqual(['10.0.0.0/8', 'hooks.internal'])
  })

  it('rejects unknown settings and broken files in the config file', () => {
    const typo = writeConfigFile({ prot: 80 })
    expect(() => loadConfig({ configFile: typo, cwd })).toThrow(
      /prot \(from config file .*\): unknown setting/,
    )
    const broken = writeConfigFile('{ "port": ')
    expect(() => loadConfig({ configFile: broken, cwd })).toThrow(/not valid JSON/)
    expect(() => loadConfig({ configFile: '/nonexistent/pigment.json', cwd })).toThrow(/cannot read/)
  })

  it('requires a bucket for S3 storage', () => {
    expect(() => loadConfig({ flags: { 'storage.kind': 's3' }, cwd })).toThrow(/s3-bucket/)
    const config = loadConfig({ flags: { 'storage.kind': 's3', 'storage.bucket': 'art' }, cwd })
    expect(config.storage.bucket).toBe('art')
  })
})

describe('value parsers', () => {
  it('reads durations and sizes with units', () => {
    expect(parseDuration('90')).toBe(90)
    expect(parseDuration('500ms')).toBe(0.5)
    expect(parseDuration('15m')).toBe(900)
    expect(parseBytes('20mb')).toBe(20_000_000)
    expect(parseBytes('1MiB')).toBe(1_048_576)
    expect(() => parseBytes('lots')).toThrow(/size/)
  })
})
