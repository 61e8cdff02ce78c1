/**
 * A client that drops its upload mid-body is its own doing, not an outage: Node reports it as ECONNRESET
 * "aborted", which must not read as the records database being down (no error log, no UNAVAILABLE count).
 */
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../app.js'
import { toHttpError } from './errors.js'
import { fakeDeps } from './shared/testing/fake-deps.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

describe('a dropped upload', () => {
  it('is classified as a client abort, while a database connection reset stays UNAVAILABLE', () => {
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 })
    expect(toHttpError(aborted).code).toBe('CLIENT_ABORTED')
    const database = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    expect(toHttpError(database).code).toBe('UNAVAILABLE')
  })

  it('writes no error log and counts under its own label', async () => {
    const lines: Record<string, unknown>[] = []
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
        done()
      },
    })
    const deps = fakeDeps()
    app = await buildApp(deps, { logger: pino({ level: 'info' }, sink) })
    const address = await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = new URL(address)
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'POST /v1/images/generations HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
            'content-length: 1000\r\n\r\n{"prompt": "half a bo',
        )
        setTimeout(() => socket.destroy(), 100)
      })
      socket.on('close', () => resolve())
      socket.on('error', reject)
    })
    // the server notices the reset after the socket closes; wait until it has logged the request's end
    for (let i = 0; i < 50 && !lines.some((line) => line.msg === 'request completed'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const metrics = await (await fetch(`${address}/metrics`)).text()
    expect(metrics).toMatch(/pigment_errors_total\{code="CLIENT_ABORTED",source="http"\} 1/)
    expect(metrics).not.toMatch(/code="UNAVAILABLE"/)
    expect(lines.filter((line) => Number(line.level) >= 50)).toEqual([])
  })
})
