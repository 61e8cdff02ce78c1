/**
 * TypeBox schema of Chutes' image endpoint (seed `003_…`): `POST /generate` with its `GenerationInput`, and
 * the FastAPI-style error bodies Chutes answers with (`{detail}`; validation errors as a list, status 422).
 * Unknown fields pass, as pydantic ignores them; JSON `null` means "not given" (`Optional[...] = None`).
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'

export const GenerateBody = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: 20_000 }),
    negative_prompt: Type.Optional(Type.String({ maxLength: 20_000 })),
    width: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
    height: Type.Optional(Type.Integer({ minimum: 8, maximum: 16_384 })),
    num_inference_steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    true_cfg_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    guidance_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: true },
)
export type GenerateBody = Static<typeof GenerateBody>

/** One item of a FastAPI validation error. */
export const ValidationIssue = Type.Object({
  type: Type.String(),
  loc: Type.Array(Type.Union([Type.String(), Type.Integer()])),
  msg: Type.String(),
})
export type ValidationIssue = Static<typeof ValidationIssue>

export const ErrorBody = Type.Object({
  detail: Type.Union([Type.String(), Type.Array(ValidationIssue)]),
})
export type ErrorBody = Static<typeof ErrorBody>
