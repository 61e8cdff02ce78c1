/**
 * A Fastify app with one dialect plugin over the shared fake dependencies, for route tests with `inject`.
 * The fake catalog answers to the test aliases the seed examples use (`chroma`, `qwen-image`, `default`) and
 * allows the sizes and step counts the seeds' defaults ask for. Not part of the build.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Config } from '../../config/schema.js'
import { errors } from '../../core/errors.js'
import type { Caller } from '../auth.js'
import type { ApiDeps, ModelCatalog } from '../shared/deps.js'
import { type FakeDeps, fakeDeps } from '../shared/testing/fake-deps.js'

export const TEST_MODEL = 'tiny'
export const TEST_ALIASES = ['chroma', 'qwen-image', 'dall-e-3']

const PROFILE = {
  name: TEST_MODEL,
  defaults: {
    steps: 20,
    cfg: 2,
    sampler: 'euler',
    scheduler: 'simple',
    width: 64,
    height: 64,
    negativePrompt: '',
  },
  limits: { minSize: 16, maxSize: 2048, sizeMultiple: 8, maxSteps: 100, minCfg: 0, maxCfg: 30 },
}

export function testCatalog(): ModelCatalog & { warmed: string[] } {
  const warmed: string[] = []
  const known = new Set([TEST_MODEL, ...TEST_ALIASES])
  return {
    warmed,
    async list() {
      return [
        {
          name: TEST_MODEL,
          family: 'flow',
          aliases: TEST_ALIASES,
          loaded: warmed.length > 0,
          isDefault: true,
          defaults: PROFILE.defaults,
          limits: PROFILE.limits,
        },
      ]
    },
    async profile(name) {
      if (name === undefined || known.has(name)) return PROFILE
      throw errors.MODEL_NOT_FOUND(`no model "${name}"`, { field: 'model' })
    },
    async warmup(name) {
      await this.profile(name)
      warmed.push(name)
      return { model: TEST_MODEL, seconds: 0.01 }
    },
    async readiness() {
      return { ready: true }
    },
  }
}

export interface DialectTestOptions {
  readonly caller?: (headers: IncomingHttpHeaders) => Caller
  /** Run every job to success as soon as it is queued (default true). */
  readonly autoRun?: boolean
  readonly syncTimeoutSeconds?: number
  /** Further settings over the test defaults. */
  readonly config?: Partial<Config>
}

export async function dialectTestApp(
  plugin: (app: FastifyInstance, deps: ApiDeps) => Promise<void>,
  options: DialectTestOptions = {},
): Promise<{ app: FastifyInstance; deps: FakeDeps & { models: ReturnType<typeof testCatalog> } }> {
  const base = fakeDeps({
    ...(options.caller === undefined ? {} : { caller: options.caller }),
    config: { syncTimeoutSeconds: options.syncTimeoutSeconds ?? 2, ...options.config },
  })
  const deps = { ...base, models: testCatalog() }
  if (options.autoRun !== false) deps.worker.autoRun()
  const app = Fastify({ logger: false })
  await app.register(async (scope) => plugin(scope, deps))
  await app.ready()
  return { app, deps }
}
