/**
 * Native routes about what the caller may see and use, beside the generation routes in `index.ts`: their
 * images (`GET /api/assets`, paged), their own key (`GET /api/me`: credits and limits, so a client can show
 * them without an admin key) and the sampler and scheduler names a generation accepts. Registered by
 * `nativeApi` into its scope, so the same auth hook, validator and rate limit apply.
 * @module
 */
import type { FastifyInstance } from 'fastify'
import { SAMPLER_NAMES } from '../../engine/sampler-names.js'
import { SCHEDULER_NAMES } from '../../engine/schedules/index.js'
import { callerOf } from '../auth.js'
import type { ApiDeps } from '../shared/deps.js'
import { publicBase } from '../shared/public-base.js'
import {
  type AssetListQuery,
  AssetListQuery as AssetListQuerySchema,
  AssetListSchema,
  type CallerBody,
  CallerSchema,
  ErrorSchema,
  SamplerListSchema,
} from './schema.js'
import { assetView } from './views.js'

const errorResponses = { '4xx': ErrorSchema, '5xx': ErrorSchema }
const tags = ['native']
const SAMPLERS = Object.freeze({ samplers: [...SAMPLER_NAMES], schedulers: [...SCHEDULER_NAMES] })

export async function callerRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Querystring: AssetListQuery }>(
    '/api/assets',
    {
      schema: {
        tags,
        summary: "The caller's images, newest first (an admin's: everyone's), with cursor pagination",
        querystring: AssetListQuerySchema,
        response: { 200: AssetListSchema, ...errorResponses },
      },
    },
    async (request) => {
      const caller = callerOf(request)
      const owner = caller.role === 'admin' ? {} : { ownerKeyId: caller.keyId }
      const page = await deps.assets.list(owner, {
        limit: request.query.limit,
        cursor: request.query.cursor ?? null,
      })
      const now = Date.now()
      // Expired records wait for the retention sweeper; they are no longer the caller's to see.
      const live = page.assets.filter((asset) => asset.expiresAt === null || asset.expiresAt.getTime() > now)
      const base = publicBase(deps, request)
      return {
        assets: await Promise.all(live.map((asset) => assetView(deps, asset, base))),
        nextCursor: page.nextCursor,
      }
    },
  )

  app.get(
    '/api/me',
    {
      schema: {
        tags,
        summary:
          'The calling key: its role, credits left and rate limits (auth: false when the server has no keys)',
        response: { 200: CallerSchema, ...errorResponses },
      },
    },
    async (request): Promise<CallerBody> => {
      const caller = callerOf(request)
      if (caller.keyId === null) {
        return {
          auth: false,
          keyId: null,
          name: null,
          role: caller.role,
          credits: null,
          rpm: null,
          concurrency: null,
          expiresAt: null,
        }
      }
      const key = (await deps.accounts?.keys.get(caller.keyId)) ?? null
      const credits =
        deps.accounts === undefined
          ? caller.remainingCredits
          : await deps.accounts.remainingCredits(caller.keyId)
      return {
        auth: true,
        keyId: caller.keyId,
        // Operator keys (--api-key) have no record: unlimited admins.
        name: key?.name ?? null,
        role: caller.role,
        credits,
        rpm: key?.rpm ?? caller.rpm ?? null,
        concurrency: key?.concurrency ?? null,
        expiresAt: key?.expiresAt?.toISOString() ?? null,
      }
    },
  )

  app.get(
    '/api/samplers',
    {
      schema: {
        tags,
        summary: 'Sampler and scheduler names a generation accepts',
        response: { 200: SamplerListSchema, ...errorResponses },
      },
    },
    async () => SAMPLERS,
  )
}
