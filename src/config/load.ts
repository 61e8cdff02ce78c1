/**
 * Loads the config once at startup: defaults < config file (`--config FILE` or `PIGMENT_CONFIG`, JSON) <
 * `PIGMENT_*` environment < CLI flags. The result is validated against `ConfigSchema`; the first bad value
 * stops startup with a message naming the setting and where it came from.
 * @module
 */
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import type { ValueError } from '@sinclair/typebox/value'
import { Value } from '@sinclair/typebox/value'
import { CONFIG_FILE_ENV, CONFIG_OPTIONS, type ConfigOption } from './options.js'
import {
  parseBoolean,
  parseBytes,
  parseDuration,
  parseInteger,
  parseList,
  parseNumber,
  parsePairs,
} from './parse-value.js'
import { type Config, ConfigSchema } from './schema.js'
import { parseWebhookAllow } from './webhook-allow.js'

/** A raw command-line value: a string, the strings of a repeatable flag, or a switch. */
export type FlagValue = string | readonly string[] | boolean

export interface ConfigSources {
  /** Command-line values keyed by `ConfigOption.key`; undefined = not given. */
  readonly flags?: Readonly<Record<string, FlagValue | undefined>>
  readonly env?: Readonly<Record<string, string | undefined>>
  /** From `--config`; falls back to `PIGMENT_CONFIG`. */
  readonly configFile?: string
  /** Relative paths on the command line and in the environment are resolved against it. */
  readonly cwd?: string
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

type Tree = Record<string, unknown>

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {}
  const cwd = sources.cwd ?? process.cwd()
  const origins = new Map<string, string>()
  const merged: Tree = {}

  const file = sources.configFile ?? env[CONFIG_FILE_ENV]
  if (file !== undefined && file !== '') {
    const path = resolve(cwd, file)
    const tree = readConfigFile(path)
    resolvePaths(tree, dirname(path))
    mergeInto(merged, tree, origins, `config file ${path}`, '')
  }
  mergeInto(merged, fromEnv(env, cwd, origins), origins, '', '')
  mergeInto(merged, fromFlags(sources.flags ?? {}, cwd, origins), origins, '', '')

  const config = Value.Default(ConfigSchema, merged) as Tree
  const error = Value.Errors(ConfigSchema, config).First()
  if (error !== undefined) throw new ConfigError(describe(error, origins))
  return finish(config as Config, cwd, origins)
}

function finish(loaded: Config, cwd: string, origins: ReadonlyMap<string, string>): Config {
  checkFleet(loaded)
  const config = fleetRateLimit(loaded, origins)
  if (config.storage.kind === 's3' && config.storage.bucket === '') {
    throw new ConfigError(
      'invalid config: storage.bucket: --storage s3 needs --s3-bucket (PIGMENT_S3_BUCKET)',
    )
  }
  if (config.rateLimit.store === 'redis' && config.rateLimit.redisUrl === '') {
    throw new ConfigError(
      'invalid config: rateLimit.redisUrl: --rate-limit-store redis needs --rate-limit-redis (PIGMENT_RATE_LIMIT_REDIS)',
    )
  }
  try {
    parseWebhookAllow(config.webhookAllow)
  } catch (cause) {
    throw new ConfigError(
      `invalid config: webhookAllow (from ${origins.get('webhookAllow') ?? 'defaults'}): ${(cause as Error).message}`,
    )
  }
  // with a shared queue, API processes only enqueue unless told to run workers too
  const workers = config.queueUrl !== '' && !origins.has('workers') ? 0 : config.workers
  return { ...config, workers, dataDir: resolve(cwd, config.dataDir) }
}

/** Several API processes must count each key's requests in one place: the fleet's Redis, unless told otherwise. */
function fleetRateLimit(config: Config, origins: ReadonlyMap<string, string>): Config {
  if (config.queueUrl === '') return config
  const store = origins.has('rateLimit.store') ? config.rateLimit.store : 'redis'
  const redisUrl = config.rateLimit.redisUrl === '' ? config.queueUrl : config.rateLimit.redisUrl
  return { ...config, rateLimit: { ...config.rateLimit, store, redisUrl } }
}

/** Many processes share the queue: the records and images must be shared too, not per machine. */
function checkFleet(config: Config): void {
  if (config.queueUrl === '') return
  if (!/^rediss?:\/\//.test(config.queueUrl)) {
    throw new ConfigError(
      `invalid config: queueUrl: --queue takes redis://host:port, got ${JSON.stringify(config.queueUrl)}`,
    )
  }
  if (!/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw new ConfigError(
      'invalid config: databaseUrl: --queue redis://… needs --database-url postgres://… (every process shares the records)',
    )
  }
  if (config.storage.kind !== 's3') {
    throw new ConfigError(
      'invalid config: storage.kind: --queue redis://… needs --storage s3 (workers on other machines write the images)',
    )
  }
}

function readConfigFile(path: string): Tree {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${path}: ${(cause as Error).message}`)
  }
  let tree: unknown
  try {
    tree = JSON.parse(text)
  } catch (cause) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(cause as Error).message}`)
  }
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`)
  }
  return tree as Tree
}

/** Paths written in a config file are relative to the file, not to wherever the server is started. */
function resolvePaths(tree: Tree, base: string): void {
  if (typeof tree.dataDir === 'string') tree.dataDir = resolve(base, tree.dataDir)
  if (Array.isArray(tree.models)) tree.models = tree.models.map((item) => resolveModelPath(item, base))
  const comfyui = tree.comfyui as Tree | undefined
  if (typeof comfyui === 'object' && comfyui !== null && Array.isArray(comfyui.models)) {
    for (const entry of comfyui.models as unknown[]) {
      const model = entry as Tree | null
      if (typeof model?.workflowFile === 'string') model.workflowFile = resolve(base, model.workflowFile)
    }
  }
}

function resolveModelPath(item: unknown, base: string): unknown {
  if (typeof item !== 'string' || isAbsolute(item)) return item
  return item.startsWith('.') || item.includes('/') ? resolve(base, item) : item
}

function fromEnv(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  origins: Map<string, string>,
) {
  const tree: Tree = {}
  for (const option of CONFIG_OPTIONS) {
    const raw = env[option.env]
    if (raw === undefined || raw === '') continue
    const source = `environment ${option.env}`
    const repeatable = option.kind === 'list' || option.kind === 'pairs'
    const value = parseRaw(option, repeatable ? parseList(raw) : raw, source)
    setPath(tree, option.key, option.key === 'models' ? resolveModels(value, cwd) : value)
    origins.set(option.key, source)
  }
  return tree
}

function fromFlags(
  flags: Readonly<Record<string, FlagValue | undefined>>,
  cwd: string,
  origins: Map<string, string>,
) {
  const tree: Tree = {}
  for (const option of CONFIG_OPTIONS) {
    const raw = flags[option.key]
    if (raw === undefined) continue
    const source = `flag --${option.flag}`
    const value = parseRaw(option, raw, source)
    setPath(tree, option.key, option.key === 'models' ? resolveModels(value, cwd) : value)
    origins.set(option.key, source)
  }
  return tree
}

function resolveModels(value: unknown, cwd: string): unknown {
  return Array.isArray(value) ? value.map((item) => resolveModelPath(item, cwd)) : value
}

function parseRaw(option: ConfigOption, raw: FlagValue, source: string): unknown {
  try {
    if (typeof raw === 'boolean') {
      if (option.kind !== 'boolean') throw new Error('expected a value')
      return raw
    }
    if (option.kind === 'list' || option.kind === 'pairs') {
      const items = typeof raw === 'string' ? [raw] : [...raw]
      return option.kind === 'pairs' ? parsePairs(items) : items
    }
    const text = typeof raw === 'string' ? raw : raw[raw.length - 1]
    switch (option.kind) {
      case 'integer':
        return parseInteger(text)
      case 'number':
        return parseNumber(text)
      case 'boolean':
        return parseBoolean(text)
      case 'duration':
        return parseDuration(text)
      case 'bytes':
        return parseBytes(text)
      default:
        return text
    }
  } catch (cause) {
    throw new ConfigError(`invalid config: ${option.key} (from ${source}): ${(cause as Error).message}`)
  }
}

function setPath(tree: Tree, dotted: string, value: unknown): void {
  const parts = dotted.split('.')
  let node = tree
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {}
    node = node[part] as Tree
  }
  node[parts[parts.length - 1]] = value
}

function mergeInto(target: Tree, source: Tree, origins: Map<string, string>, label: string, prefix: string) {
  for (const [key, value] of Object.entries(source)) {
    const path = prefix === '' ? key : `${prefix}.${key}`
    const isTree = typeof value === 'object' && value !== null && !Array.isArray(value)
    // aliases is a map of names, not a nested setting: it replaces as a whole like a list.
    if (isTree && path !== 'aliases') {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {}
      mergeInto(target[key] as Tree, value as Tree, origins, label, path)
    } else {
      target[key] = value
      if (label !== '') origins.set(path, label)
    }
  }
}

function describe(error: ValueError, origins: ReadonlyMap<string, string>): string {
  const key = error.path.slice(1).replaceAll('/', '.') || '(root)'
  const origin = originOf(key, origins)
  const where = origin === undefined ? '' : ` (from ${origin})`
  return `invalid config: ${key}${where}: ${explain(error)}, got ${JSON.stringify(error.value)}`
}

function originOf(key: string, origins: ReadonlyMap<string, string>): string | undefined {
  for (let probe = key; probe !== ''; probe = probe.slice(0, Math.max(0, probe.lastIndexOf('.')))) {
    const origin = origins.get(probe)
    if (origin !== undefined) return origin
  }
  return [...origins.values()].find((origin) => origin.startsWith('config file'))
}

function explain(error: ValueError): string {
  const choices = (error.schema.anyOf as { const?: unknown }[] | undefined)?.map((item) => item.const)
  if (choices?.every((choice) => typeof choice === 'string')) return `expected one of ${choices.join(', ')}`
  if (error.message.startsWith('Unexpected property')) return 'unknown setting'
  return error.message.charAt(0).toLowerCase() + error.message.slice(1)
}
