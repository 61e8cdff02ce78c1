/**
 * Scenario's error envelope. Its document defines one body for 400/401/403/404/500/501/503
 * (`{apiError, error, id, infos, createdAt, updatedAt}`) and another for 429 (`{reason, name, details}`).
 * Pigment fills `apiError` with its catalog code, `error` with the message, `id` with the request id (so a
 * report can be found in the log) and `infos` with the offending field or job. The status is the catalog's;
 * mapping, logging and counting are the shared `dialectErrorHandler`'s.
 * @module
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { errors, type PigmentError } from '../../core/errors.js'
import type { RenderedError } from '../dialect-kit.js'
import type { ScenarioErrorBody, TooManyRequestsBody } from './schema.js'

export function scenarioErrorBody(error: PigmentError, requestId: string, now: Date): ScenarioErrorBody {
  const jobId = error.details?.jobId
  const at = now.toISOString()
  return {
    apiError: error.code,
    error: error.message,
    id: requestId,
    infos: {
      ...(error.field === undefined ? {} : { field: error.field }),
      ...(typeof jobId === 'string' ? { jobId } : {}),
    },
    createdAt: at,
    updatedAt: at,
  }
}

export function tooManyRequestsBody(error: PigmentError): TooManyRequestsBody {
  return {
    reason: error.message,
    name: error.code,
    details: error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds },
  }
}

/** A catalog error as Scenario answers it (for `dialectErrorHandler`): 429 has its own body. */
export function renderScenarioError(error: PigmentError, request: FastifyRequest): RenderedError {
  const body =
    error.httpStatus === 429 ? tooManyRequestsBody(error) : scenarioErrorBody(error, request.id, new Date())
  return { status: error.httpStatus, body }
}

/** Unknown routes under the Scenario prefix answer in Scenario's 404 shape. */
export function handleScenarioNotFound(request: FastifyRequest, reply: FastifyReply): void {
  const error = errors.NOT_FOUND(`no route ${request.method} ${request.url.split('?')[0]}`)
  void reply
    .code(404)
    .type('application/json; charset=utf-8')
    .send(scenarioErrorBody(error, request.id, new Date()))
}
