/**
 * Operator routes outside `/api`: liveness, readiness, Prometheus metrics, and `/files/*`, which serves
 * local-store images to whoever holds a valid signed URL (no API key needed: the signature is the grant).
 * @module
 */
import { extname } from 'node:path'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { errors } from '../../core/errors.js'
import { authHook } from '../auth.js'
import type { ApiDeps } from './deps.js'
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.js'

const tags = ['operations']

const HealthSchema = Type.Object({ status: Type.String() })
const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unready')]),
  checks: Type.Object({
    database: Type.String(),
    model: Type.String(),
    accepting: Type.Boolean(),
    /** Fleet mode only: live workers and per-model slots from their adverts. */
    workers: Type.Optional(Type.String()),
  }),
  fleet: Type.Optional(
    Type.Object({
      workers: Type.Integer(),
      queued: Type.Integer(),
      running: Type.Integer(),
      models: Type.Record(
        Type.String(),
        Type.Object({ workers: Type.Integer(), slots: Type.Integer(), free: Type.Integer() }),
      ),
    }),
  ),
})

const IMAGE_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
}

async function fleetCheck(deps: ApiDeps) {
  if (deps.fleet === undefined) return null
  try {
    const status = await deps.fleet.status()
    return { workers: status.workers > 0 ? 'ok' : 'no live worker', status }
  } catch (error) {
    return { workers: `unknown: ${(error as Error).message}`, status: undefined }
  }
}

export async function opsRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get(
    '/healthz',
    { schema: { tags, summary: 'Liveness: the process answers', response: { 200: HealthSchema } } },
    async () => ({ status: 'ok' }),
  )

  app.get(
    '/readyz',
    {
      schema: {
        tags,
        summary: 'Readiness: database reachable, a model loaded or loadable, not shutting down',
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const database = await deps.probeDatabase().then(
        () => 'ok',
        (error: Error) => `unreachable: ${error.message}`,
      )
      const readiness = await deps.models.readiness().catch((error: Error) => ({
        ready: false,
        reason: error.message,
      }))
      const model = readiness.ready ? 'ok' : (readiness.reason ?? 'not ready')
      const accepting = deps.state.accepting
      const fleet = await fleetCheck(deps)
      const ready =
        database === 'ok' && readiness.ready && accepting && (fleet === null || fleet.workers === 'ok')
      void reply.code(ready ? 200 : 503)
      const checks = { database, model, accepting, ...(fleet === null ? {} : { workers: fleet.workers }) }
      return {
        status: ready ? 'ready' : 'unready',
        checks,
        ...(fleet?.status === undefined ? {} : { fleet: fleet.status }),
      }
    },
  )

  // Open unless --metrics-auth: scrapers usually carry no key, and the figures hold no prompts or images.
  const metricsHooks = deps.config.metricsAuth ? { onRequest: authHook(deps.authenticate) } : {}
  app.get(
    '/metrics',
    { schema: { tags, summary: 'Prometheus metrics' }, ...metricsHooks },
    async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(await deps.metrics.render()),
  )

  app.get(
    '/files/*',
    { schema: { tags, summary: 'An image through a signed URL' } },
    async (request, reply) => {
      if (deps.signedFiles === undefined)
        throw errors.NOT_FOUND('this server stores images in S3; use the S3 URL')
      const key = deps.signedFiles.verify(request.url)
      const bytes = await deps.storage.get(key)
      if (bytes === null) throw errors.GONE('this image is no longer stored')
      return reply
        .type(IMAGE_TYPES[extname(key).toLowerCase()] ?? 'application/octet-stream')
        .header('cache-control', 'private, max-age=300')
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    },
  )
}
