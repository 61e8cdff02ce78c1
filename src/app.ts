/**
 * `buildApp(deps)`: the Fastify instance with every plugin and route, ready for `listen` or `inject`. It
 * never listens and never opens anything itself; `server/` composes the real dependencies, route tests
 * pass fakes.
 * @module
 */
import { randomUUID } from 'node:crypto'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import { a1111Api } from './api/a1111/index.js'
import { adminApi } from './api/admin/index.js'
import { authHook } from './api/auth.js'
import { chutesApi } from './api/chutes/index.js'
import { handleError, handleNotFound } from './api/errors.js'
import { nativeApi } from './api/native/index.js'
import { openaiApi } from './api/openai/index.js'
import { registerKeyRateLimit } from './api/rate-limit.js'
import { runpodApi } from './api/runpod/index.js'
import { scenarioDialect } from './api/scenario/index.js'
import { segmindApi } from './api/segmind/index.js'
import type { ApiDeps } from './api/shared/deps.js'
import { ErrorHandlersByPath, type ScopeErrorHandler } from './api/shared/error-shapes.js'
import { useJsonBodyParser } from './api/shared/json-body.js'
import { opsRoutes } from './api/shared/ops-routes.js'
import { studioPage } from './api/studio/index.js'
import { readPackageVersion } from './cli/version.js'
import { errors } from './core/errors.js'

export interface AppOptions {
  /** A pino logger; none = silent (tests). */
  readonly logger?: FastifyBaseLogger
}

/** Incoming ids are kept when they look like ids, so one request can be followed across proxies. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/

/**
 * The docs page's CSP as @fastify/swagger-ui writes it, less two things that break the page: swagger-ui's
 * bundle sets inline styles (blocked without `'unsafe-inline'` in `style-src`; scripts stay hash-pinned), and
 * `upgrade-insecure-requests` sends the page's own assets to https:// when it is opened over plain HTTP on a
 * non-loopback address, which is how Pigment serves.
 */
export function docsCsp(header: string): string {
  return header
    .replace(/style-src ([^;]*);/, (_all, sources: string) => `style-src ${sources.trim()} 'unsafe-inline';`)
    .replace(/\s*upgrade-insecure-requests;?/, '')
}

export async function buildApp(deps: ApiDeps, options: AppOptions = {}): Promise<FastifyInstance> {
  const byPath = new ErrorHandlersByPath()
  const app = Fastify({
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: deps.config.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (raw) => {
      const given = raw.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    routerOptions: { maxParamLength: 200 },
    // Without this, a kept-alive idle socket holds `close()` open for the whole keep-alive timeout.
    forceCloseConnections: 'idle',
    trustProxy: deps.config.trustProxy,
    // A bad URL or an over-long path parameter answers in the shape of the API the path belongs to.
    frameworkErrors: (error, request, reply) => {
      const handler = byPath.find(request.url)
      if (handler === undefined) handleError(error, request, reply)
      else void handler.call(app, error, request, reply)
    },
  })

  app.setErrorHandler(function handleRootError(error, request, reply) {
    const sent = handleError(error, request, reply)
    deps.metrics.countError(sent.code, 'http')
  })
  const rootHandler = app.errorHandler
  app.addHook('onRoute', function recordErrorHandler(route) {
    byPath.add(route.url, (route.errorHandler ?? this.errorHandler) as ScopeErrorHandler)
  })
  app.setNotFoundHandler((request, reply) => {
    const handler = byPath.find(request.url)
    if (handler === undefined || handler === rootHandler) {
      handleNotFound(request, reply)
      return
    }
    const path = request.url.split('?')[0]
    void handler.call(app, errors.NOT_FOUND(`no route ${request.method} ${path}`), request, reply)
  })
  // One parser for every scope: bodies nested past the limit never reach a recursive walk.
  useJsonBodyParser(app)
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.countRequest({ method: request.method, status: String(reply.statusCode) })
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Pigment',
        version: readPackageVersion(),
        description:
          'Self-hosted image generation. Native API under /api; errors are {error: {code, message, field?}}.',
      },
      tags: [
        { name: 'native', description: 'Generations, jobs, assets and models' },
        { name: 'operations', description: 'Health, readiness, metrics and signed image files' },
        { name: 'admin', description: 'API keys (admin only) and usage' },
      ],
    },
  })
  // Open unless --docs-auth: they describe the API and hold no data.
  const docsHooks = deps.config.docsAuth ? { onRequest: authHook(deps.authenticate) } : {}
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: docsCsp,
    uiHooks: docsHooks,
  })
  app.get('/openapi.json', { schema: { hide: true }, ...docsHooks }, async () => app.swagger())

  // Before every route plugin: the per-key limiter attaches itself to routes declared after it.
  await registerKeyRateLimit(app, deps.config.rateLimit)
  await app.register(async (scope) => opsRoutes(scope, deps))
  await app.register(async (scope) => nativeApi(scope, deps))
  const { accounts } = deps
  if (accounts !== undefined) await app.register(async (scope) => adminApi(scope, { ...deps, accounts }))
  await app.register(scenarioDialect, { prefix: '/scenario/v1', deps })
  await app.register(async (scope) => runpodApi(scope, deps))
  await app.register(async (scope) => segmindApi(scope, deps))
  await app.register(async (scope) => chutesApi(scope, deps))
  await app.register(async (scope) => openaiApi(scope, deps))
  await app.register(async (scope) => a1111Api(scope, deps))
  await app.register(async (scope) => studioPage(scope))
  return app
}
