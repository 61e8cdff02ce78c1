/**
 * TypeBox schemas of the admin API (`/api/admin/keys`) and the usage report (`/api/usage`). Credits are
 * shown as numbers with at most three decimals (the server counts milli-credits).
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'

export const KeyIdParams = Type.Object({
  id: Type.String({ pattern: '^[0-9a-f]{16}$', description: 'the public id of the key (pk_<id>_…)' }),
})
export type KeyIdParams = Static<typeof KeyIdParams>

const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('user')])
const Credits = Type.Number({ minimum: 0, maximum: 1e12, description: 'credits (up to 3 decimals)' })
const PerMinute = Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'requests per minute' })
const Concurrency = Type.Integer({ minimum: 1, maximum: 100_000, description: 'queued + running jobs' })
const Expiry = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'ISO date (2027-01-31, 2027-01-31T12:00:00Z) or a duration from now (30d, 12h)',
})
const orNull = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()])

export const CreateKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    role: Type.Optional(RoleSchema),
    credits: Type.Optional(orNull(Credits)),
    rpm: Type.Optional(orNull(PerMinute)),
    concurrency: Type.Optional(orNull(Concurrency)),
    expires: Type.Optional(orNull(Expiry)),
  },
  { additionalProperties: false },
)
export type CreateKeyBody = Static<typeof CreateKeyBody>

export const UpdateKeyBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    role: Type.Optional(RoleSchema),
    credits: Type.Optional(orNull(Credits)),
    rpm: Type.Optional(orNull(PerMinute)),
    concurrency: Type.Optional(orNull(Concurrency)),
    expires: Type.Optional(orNull(Expiry)),
  },
  { additionalProperties: false },
)
export type UpdateKeyBody = Static<typeof UpdateKeyBody>

export const AddCreditsBody = Type.Object(
  { add: Type.Number({ minimum: -1e12, maximum: 1e12, description: 'credits to add (negative takes)' }) },
  { additionalProperties: false },
)
export type AddCreditsBody = Static<typeof AddCreditsBody>

const Time = Type.String({ format: 'date-time' })
const NullableTime = Type.Union([Time, Type.Null()])
const NullableInteger = Type.Union([Type.Integer(), Type.Null()])

export const KeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  createdAt: Time,
  lastUsedAt: NullableTime,
  expiresAt: NullableTime,
  revokedAt: NullableTime,
  /** null = unlimited */
  credits: Type.Union([Type.Number(), Type.Null()]),
  rpm: NullableInteger,
  concurrency: NullableInteger,
  activeJobs: Type.Integer(),
})
export type KeyView = Static<typeof KeySchema>

export const KeyListSchema = Type.Object({ keys: Type.Array(KeySchema) })

export const CreatedKeySchema = Type.Object({
  key: KeySchema,
  /** The whole key, shown this once: Pigment keeps only a hash of its secret. */
  token: Type.String(),
})

export const UsageQuery = Type.Object(
  {
    from: Type.Optional(
      Type.String({ maxLength: 64, description: 'ISO time, inclusive; default 30 days ago' }),
    ),
    to: Type.Optional(Type.String({ maxLength: 64, description: 'ISO time, exclusive; default now' })),
    keyId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'admins: one key' })),
  },
  { additionalProperties: false },
)
export type UsageQuery = Static<typeof UsageQuery>

export const UsageSchema = Type.Object({
  from: Time,
  to: Time,
  keys: Type.Array(
    Type.Object({
      keyId: Type.Union([Type.String(), Type.Null()]),
      jobs: Type.Integer(),
      succeeded: Type.Integer(),
      failed: Type.Integer(),
      canceled: Type.Integer(),
      images: Type.Integer(),
      megapixelSteps: Type.Number(),
      credits: Type.Number(),
    }),
  ),
})
