/**
 * The absolute base of every URL a response hands out (`fileUrl`, Segmind's `status_url`/`response_url`).
 * A client must not be able to choose it: the Host header is the client's to write, so a forged one would
 * send other people's links to a host of the client's choosing. In order: `--public-base-url`; the request
 * as a trusted proxy describes it (`--trust-proxy`: X-Forwarded-Proto/-Host); else the address and port the
 * connection arrived on, which the server owns.
 * @module
 */
import { isIP } from 'node:net'
import type { FastifyRequest } from 'fastify'
import type { Config } from '../../config/schema.js'

export function publicBase(
  deps: { readonly config: Pick<Config, 'publicBaseUrl' | 'trustProxy' | 'host' | 'port'> },
  request: FastifyRequest,
): string {
  const { config } = deps
  const configured = config.publicBaseUrl.replace(/\/+$/, '')
  if (configured !== '') return configured
  if (config.trustProxy) return `${request.protocol}://${request.host}`
  const socket = request.raw.socket as { localAddress?: string; localPort?: number } | undefined
  const address = socket?.localAddress
  const port = socket?.localPort
  if (address !== undefined && address !== '' && port !== undefined && port > 0) {
    return `http://${urlHost(address)}:${port}`
  }
  return `http://${urlHost(config.host)}:${config.port}`
}

/** IPv6 literals go in brackets; an IPv4 address reached over a dual-stack socket loses its `::ffff:`. */
function urlHost(address: string): string {
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
  return isIP(plain) === 6 ? `[${plain}]` : plain
}
