import { describe, expect, it } from 'vitest'
import { errors } from '../core/errors.js'
import { fromSchemaIssue, toHttpError } from './errors.js'

function fastifyError(code: string, message = 'm', statusCode = 400) {
  return Object.assign(new Error(message), { code, statusCode })
}

describe('toHttpError', () => {
  it('maps Fastify body errors to catalog codes', () => {
    expect(toHttpError(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 'big', 413)).code).toBe('PAYLOAD_TOO_LARGE')
    expect(
      toHttpError(fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type: text/plain', 415)),
    ).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      httpStatus: 415,
    })
    const syntax = Object.assign(new SyntaxError('Unexpected end of JSON input'), { statusCode: 400 })
    expect(toHttpError(syntax)).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body' })
  })

  it('names the field of the first Ajv error, including missing and unknown properties', () => {
    const ajv = (issue: object) =>
      Object.assign(fastifyError('FST_ERR_VALIDATION'), { validation: [issue], validationContext: 'body' })
    expect(toHttpError(ajv({ instancePath: '/size/width', message: 'must be integer' }))).toMatchObject({
      field: 'size.width',
      message: 'size.width: must be integer',
    })
    expect(toHttpError(ajv({ instancePath: '', params: { missingProperty: 'prompt' } })).field).toBe('prompt')
    expect(toHttpError(ajv({ instancePath: '', params: { additionalProperty: 'colour' } })).message).toBe(
      'colour: is not a known field',
    )
    expect(fromSchemaIssue(undefined, 'querystring').field).toBeUndefined()
  })

  it('passes catalog errors through and turns anything else into INTERNAL, keeping 4xx statuses as 4xx', () => {
    const full = errors.QUEUE_FULL('full', { retryAfterSeconds: 3 })
    expect(toHttpError(full)).toBe(full)
    expect(toHttpError(new TypeError('boom'))).toMatchObject({ code: 'INTERNAL', httpStatus: 500 })
    expect(toHttpError(Object.assign(new Error('nope'), { statusCode: 404 })).httpStatus).toBe(404)
  })
})
