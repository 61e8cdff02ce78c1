/**
 * The admin API for API keys, `/api/admin/keys` (admin keys only), and the usage report `/api/usage`
 * (admins: every key or `?keyId=`; users: their own). Errors use the native shape. Routes only: the
 * mapping is in `views.ts`, the records in `keys/`, `usage/`.
 * @module
 */
import type { FastifyInstance } from 'fastify'
import { errors } from '../../core/errors.js'
import type { Accounts } from '../../keys/accounts.js'
import { creditsToMilli } from '../../keys/key-record.js'
import { authHook, callerOf, requireAdmin } from '../auth.js'
import { ErrorSchema } from '../native/schema.js'
import type { ApiDeps } from '../shared/deps.js'
import { strictValidatorCompiler } from '../shared/validator.js'
import {
  AddCreditsBody,
  CreatedKeySchema,
  CreateKeyBody,
  KeyIdParams,
  KeyListSchema,
  KeySchema,
  UpdateKeyBody,
  UsageQuery,
  UsageSchema,
} from './schema.js'
import { keyView, parseTime, toKeyChanges } from './views.js'

const errorResponses = { '4xx': ErrorSchema, '5xx': ErrorSchema }
const tags = ['admin']
const USAGE_DEFAULT_DAYS = 30

export async function adminApi(
  app: FastifyInstance,
  deps: ApiDeps & { readonly accounts: Accounts },
): Promise<void> {
  app.setValidatorCompiler(strictValidatorCompiler)
  app.removeContentTypeParser('text/plain')
  app.addHook('onRequest', authHook(deps.authenticate))
  await app.register(async (scope) => keyRoutes(scope, deps.accounts))

  app.get<{ Querystring: UsageQuery }>(
    '/api/usage',
    {
      schema: {
        tags,
        summary: 'Jobs, images, megapixel-steps, credits and failures per key, by the time jobs ended',
        querystring: UsageQuery,
        response: { 200: UsageSchema, ...errorResponses },
      },
    },
    async (request) => {
      const caller = callerOf(request)
      const now = new Date()
      const to = parseTime('to', request.query.to, now)
      const from = parseTime(
        'from',
        request.query.from,
        new Date(to.getTime() - USAGE_DEFAULT_DAYS * 86_400_000),
      )
      const wanted = request.query.keyId
      if (caller.role !== 'admin' && wanted !== undefined && wanted !== caller.keyId) {
        throw errors.AUTH_FORBIDDEN("Reading another key's usage needs an admin key.")
      }
      const keyId = caller.role === 'admin' ? wanted : caller.keyId
      const keys = await deps.accounts.usage.perKey({ from, to, ...(keyId === undefined ? {} : { keyId }) })
      return { from: from.toISOString(), to: to.toISOString(), keys }
    },
  )
}

async function keyRoutes(app: FastifyInstance, accounts: Accounts): Promise<void> {
  app.addHook('onRequest', async function requireAdminKey(request) {
    requireAdmin(callerOf(request), 'Managing API keys')
  })
  const found = async (id: string) => {
    const key = await accounts.keys.get(id)
    if (key === null) throw errors.NOT_FOUND(`no API key ${id}`, { field: 'id' })
    return key
  }

  app.get(
    '/api/admin/keys',
    {
      schema: {
        tags,
        summary: 'Every API key (never its secret)',
        response: { 200: KeyListSchema, ...errorResponses },
      },
    },
    async () => {
      const now = new Date()
      return { keys: (await accounts.keys.list()).map((key) => keyView(key, now)) }
    },
  )

  app.post<{ Body: CreateKeyBody }>(
    '/api/admin/keys',
    {
      schema: {
        tags,
        summary: 'Create a key; the answer holds its token, shown this once',
        body: CreateKeyBody,
        response: { 201: CreatedKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const now = new Date()
      const changes = toKeyChanges(request.body, now)
      const { key, token } = await accounts.keys.create({ ...changes, name: request.body.name })
      request.log.info({ keyId: key.id, role: key.role }, 'API key created')
      return reply.code(201).send({ key: keyView(key, now), token })
    },
  )

  app.get<{ Params: KeyIdParams }>(
    '/api/admin/keys/:id',
    {
      schema: {
        tags,
        summary: 'One key',
        params: KeyIdParams,
        response: { 200: KeySchema, ...errorResponses },
      },
    },
    async (request) => keyView(await found(request.params.id), new Date()),
  )

  app.patch<{ Params: KeyIdParams; Body: UpdateKeyBody }>(
    '/api/admin/keys/:id',
    {
      schema: {
        tags,
        summary: 'Change name, role, credits (set the balance; null = unlimited), rpm, concurrency or expiry',
        params: KeyIdParams,
        body: UpdateKeyBody,
        response: { 200: KeySchema, ...errorResponses },
      },
    },
    async (request) => {
      const now = new Date()
      const updated = await accounts.keys.update(request.params.id, toKeyChanges(request.body, now))
      if (updated === null) throw errors.NOT_FOUND(`no API key ${request.params.id}`, { field: 'id' })
      request.log.info({ keyId: updated.id, fields: Object.keys(request.body) }, 'API key changed')
      return keyView(updated, now)
    },
  )

  app.post<{ Params: KeyIdParams; Body: AddCreditsBody }>(
    '/api/admin/keys/:id/credits',
    {
      schema: {
        tags,
        summary: 'Add credits to a limited balance (negative takes them; never below zero)',
        params: KeyIdParams,
        body: AddCreditsBody,
        response: { 200: KeySchema, ...errorResponses },
      },
    },
    async (request) => {
      const key = await found(request.params.id)
      const { add } = request.body
      const milli = Math.sign(add) * toMilli(Math.abs(add))
      const updated = await accounts.keys.addCredits(key.id, milli)
      if (updated === null) {
        throw errors.CONFLICT(
          key.creditsMilli === null
            ? `key ${key.id} has unlimited credits; set a balance with PATCH first`
            : `key ${key.id} has fewer than ${-add} credits`,
        )
      }
      return keyView(updated, new Date())
    },
  )

  app.delete<{ Params: KeyIdParams }>(
    '/api/admin/keys/:id',
    {
      schema: {
        tags,
        summary: 'Revoke a key at once (its record and usage stay)',
        params: KeyIdParams,
        response: { 200: KeySchema, ...errorResponses },
      },
    },
    async (request) => {
      await found(request.params.id)
      const revoked = await accounts.keys.revoke(request.params.id)
      request.log.info({ keyId: request.params.id }, 'API key revoked')
      return keyView(revoked ?? (await found(request.params.id)), new Date())
    },
  )
}

function toMilli(credits: number): number {
  try {
    return creditsToMilli(credits)
  } catch (cause) {
    throw errors.VALIDATION_FAILED(`add: ${(cause as Error).message}`, { field: 'add', cause })
  }
}
