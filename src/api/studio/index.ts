/**
 * The studio page at `/`: the files `vite build` writes to `dist/web` (sources in `web/`), served by
 * `@fastify/static` with a strict Content-Security-Policy the page satisfies (no inline scripts or styles,
 * network only to this origin). The page needs no key to load; everything it shows comes from the native
 * API with the key the user enters. Without a build the route says how to make one.
 * @module
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import { errors } from '../../core/errors.js'

/** Both `src/api/studio` (tsx) and `dist/api/studio` (built) sit three levels below the package root. */
export const STUDIO_ROOT = fileURLToPath(new URL('../../../dist/web/', import.meta.url))

export const STUDIO_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // blob: images fetched with the key in a header; data: the progress previews the job events carry;
  // https: the expiring links an S3 store hands out (images only: scripts and requests stay on this origin)
  "img-src 'self' data: blob: https:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const SECURITY_HEADERS = {
  'content-security-policy': STUDIO_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

export async function studioPage(
  app: FastifyInstance,
  options: { readonly root?: string } = {},
): Promise<void> {
  const root = options.root ?? STUDIO_ROOT
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS)
  })
  if (!existsSync(`${root}/index.html`)) {
    app.get('/', { schema: { hide: true } }, async () => {
      throw errors.NOT_FOUND('The studio page is not built: run `npm run build` in the Pigment folder.')
    })
    return
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // One route per built file, read once at startup: unknown paths stay the API's JSON 404.
    wildcard: false,
    decorateReply: false,
    index: ['index.html'],
    cacheControl: false,
    setHeaders(reply, path) {
      // Vite names every file under studio/ by its content hash; index.html must be revalidated.
      const immutable = path.includes('/studio/')
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    },
  })
}
