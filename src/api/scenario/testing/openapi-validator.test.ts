import { describe, expect, it } from 'vitest'
import { createScenarioValidator, toJsonSchema } from './openapi-validator.js'

const validator = createScenarioValidator()

describe('the Scenario OpenAPI validator', () => {
  it('accepts a body of the documented shape and rejects wrong types and unknown fields', () => {
    const error = { apiError: 'X', createdAt: 'a', error: 'b', id: 'c', infos: {}, updatedAt: 'd' }
    expect(validator.errors('NotFoundResponse', error)).toEqual([])
    expect(validator.errors('NotFoundResponse', { ...error, id: 7 })).not.toEqual([])
    expect(validator.errors('NotFoundResponse', { ...error, extra: true })).not.toEqual([])
    expect(validator.errors('DryRunResponse', { creativeUnitsCost: '1' })).not.toEqual([])
  })

  it('finds response schemas through the operation, and error schemas by status', () => {
    expect(validator.responseSchemaName('POST', '/generate/txt2img', 269)).toBe('DryRunResponse')
    expect(validator.responseSchemaName('GET', '/jobs/{jobId}', 200)).toBe('GetJobIdResponse')
    expect(validator.responseSchemaName('GET', '/assets', 401)).toBe('UnauthorizedResponse')
    expect(validator.responseSchemaName('GET', '/assets', 409)).toBe('BadRequestResponse')
    expect(() => validator.assertResponse('GET', '/jobs', 200, { jobs: 'none' })).toThrow(/GetJobsResponse/)
  })

  it('converts OpenAPI 3.0 nullable and boolean exclusive bounds to JSON Schema', () => {
    expect(toJsonSchema({ type: 'string', nullable: true }, false)).toEqual({ type: ['string', 'null'] })
    expect(toJsonSchema({ type: 'number', minimum: 0, exclusiveMinimum: true }, false)).toEqual({
      type: 'number',
      exclusiveMinimum: 0,
    })
    expect(toJsonSchema({ type: 'number', maximum: 5, exclusiveMaximum: false }, false)).toEqual({
      type: 'number',
      maximum: 5,
    })
  })
})
