/**
 * TypeBox schemas of OpenAI's Images API (`POST /v1/images/generations`) and Models API (`GET /v1/models`), as
 * the official `openai` npm client sends and reads them. Unknown fields pass (and are ignored); JSON `null`
 * means "not given", as the client's types allow, and is dropped before validation.
 * @module
 */
import { type Static, type TLiteral, type TUnion, Type } from '@sinclair/typebox'

/** A union of string literals whose static type is the union of the values (`map` alone widens to string). */
function oneOf<T extends string>(values: readonly T[]): TUnion<TLiteral<T>[]> {
  return Type.Union(values.map((value) => Type.Literal(value)))
}

export const QUALITIES = ['standard', 'hd', 'low', 'medium', 'high', 'auto'] as const
export type Quality = (typeof QUALITIES)[number]

export const GenerateBody = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: 32_000 }),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    size: Type.Optional(Type.String({ maxLength: 32 })),
    quality: Type.Optional(oneOf(QUALITIES)),
    response_format: Type.Optional(oneOf(['url', 'b64_json'] as const)),
    output_format: Type.Optional(oneOf(['png', 'jpeg', 'webp'] as const)),
    output_compression: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    background: Type.Optional(oneOf(['transparent', 'opaque', 'auto'] as const)),
    moderation: Type.Optional(oneOf(['low', 'auto'] as const)),
    style: Type.Optional(oneOf(['vivid', 'natural'] as const)),
    stream: Type.Optional(Type.Boolean()),
    partial_images: Type.Optional(Type.Integer({ minimum: 0, maximum: 3 })),
    user: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
)
export type GenerateBody = Static<typeof GenerateBody>

export const ImageData = Type.Object({
  url: Type.Optional(Type.String()),
  b64_json: Type.Optional(Type.String()),
})

export const ImagesResponse = Type.Object({
  created: Type.Integer(),
  data: Type.Array(ImageData),
  background: Type.Literal('opaque'),
  output_format: oneOf(['png', 'jpeg', 'webp'] as const),
  quality: oneOf(['low', 'medium', 'high'] as const),
  size: Type.String(),
})
export type ImagesResponse = Static<typeof ImagesResponse>

export const ModelObject = Type.Object({
  id: Type.String(),
  object: Type.Literal('model'),
  created: Type.Integer(),
  owned_by: Type.String(),
})
export type ModelObject = Static<typeof ModelObject>

export const ModelList = Type.Object({ object: Type.Literal('list'), data: Type.Array(ModelObject) })
export type ModelList = Static<typeof ModelList>

export const ModelParams = Type.Object({ model: Type.String({ minLength: 1, maxLength: 200 }) })
export type ModelParams = Static<typeof ModelParams>

export const ErrorEnvelope = Type.Object({
  error: Type.Object({
    message: Type.String(),
    type: Type.String(),
    param: Type.Union([Type.String(), Type.Null()]),
    code: Type.Union([Type.String(), Type.Null()]),
  }),
})
export type ErrorEnvelope = Static<typeof ErrorEnvelope>
