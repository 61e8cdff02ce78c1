import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { handleError, handleNotFound } from '../errors.js'
import { STUDIO_CSP, studioPage } from './index.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function serve(root: string) {
  app = Fastify()
  app.setErrorHandler((error, request, reply) => {
    handleError(error, request, reply)
  })
  app.setNotFoundHandler(handleNotFound)
  await app.register(async (scope) => studioPage(scope, { root }))
  return app
}

function builtPage(): string {
  const root = mkdtempSync(join(tmpdir(), 'pigment-studio-'))
  mkdirSync(join(root, 'studio'))
  writeFileSync(
    join(root, 'index.html'),
    '<!doctype html><script type="module" src="/studio/app-1a2b.js"></script>',
  )
  writeFileSync(join(root, 'studio', 'app-1a2b.js'), 'console.log(1)')
  return root
}

describe('studio page', () => {
  it('serves the built page at / under a strict CSP, its hashed files cached for good', async () => {
    const served = await serve(builtPage())
    const page = await served.inject({ url: '/' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.headers['content-security-policy']).toBe(STUDIO_CSP)
    expect(STUDIO_CSP).toContain("script-src 'self'")
    expect(STUDIO_CSP).not.toContain('unsafe-inline')
    expect(page.headers['cache-control']).toBe('no-cache')
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    const script = await served.inject({ url: '/studio/app-1a2b.js' })
    expect(script.statusCode).toBe(200)
    expect(script.headers['cache-control']).toContain('immutable')
  })

  it('leaves unknown paths to the API 404 and refuses paths outside the build', async () => {
    const served = await serve(builtPage())
    for (const url of ['/nope', '/studio/missing.js', '/studio/../../etc/passwd', '/%2e%2e/package.json']) {
      const response = await served.inject({ url })
      expect(response.statusCode, url).toBe(404)
      expect(response.json().error.code, url).toBe('NOT_FOUND')
    }
  })

  it('says how to build the page when it is not built', async () => {
    const served = await serve(mkdtempSync(join(tmpdir(), 'pigment-studio-empty-')))
    const response = await served.inject({ url: '/' })
    expect(response.statusCode).toBe(404)
    expect(response.json().error.message).toContain('npm run build')
  })
})
