/**
 * Test support: a loopback proxy in front of s3rver that checks presigned (query-string) SigV4 signatures,
 * because s3rver 3.x checks their expiry but not the signature itself (its `authentication.js` leaves
 * "Signature version 4 calculation" unimplemented). Requests without a query signature pass through.
 * The algorithm follows AWS's "Authenticating requests: using query parameters (SigV4)" page.
 * @module
 */
import { createHash, createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest()
}

/** The signature AWS would compute for this presigned request; null when it is not presigned. */
export function expectedQuerySignature(
  method: string,
  url: URL,
  host: string,
  secretKey: string,
): string | null {
  const params = url.searchParams
  const credential = params.get('X-Amz-Credential')
  const amzDate = params.get('X-Amz-Date')
  if (!params.has('X-Amz-Signature') || credential === null || amzDate === null) return null
  const scope = credential.split('/').slice(1).join('/') // date/region/service/aws4_request
  const [date, region, service] = scope.split('/')
  const query = [...params]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
  const signedHeaders = params.get('X-Amz-SignedHeaders') ?? 'host'
  const canonicalHeaders = signedHeaders === 'host' ? `host:${host}\n` : ''
  const canonicalRequest = [
    method,
    url.pathname,
    query,
    canonicalHeaders,
    signedHeaders,
    'UNSIGNED-PAYLOAD',
  ].join('\n')
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n')
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, date), region), service), 'aws4_request')
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex')
}

function isForged(incoming: IncomingMessage, secretKey: string): boolean {
  const url = new URL(incoming.url ?? '/', 'http://proxy')
  const host = incoming.headers.host ?? ''
  const expected = expectedQuerySignature(incoming.method ?? 'GET', url, host, secretKey)
  return expected !== null && expected !== url.searchParams.get('X-Amz-Signature')
}

/** Starts the proxy on 127.0.0.1, port 0, forwarding to `upstreamPort`. */
export async function startSigV4Proxy(upstreamPort: number, secretKey: string): Promise<Server> {
  const server = createServer((incoming, outgoing) => {
    if (isForged(incoming, secretKey)) {
      incoming.resume()
      outgoing.writeHead(403, { 'content-type': 'application/xml' })
      outgoing.end('<Error><Code>SignatureDoesNotMatch</Code></Error>')
      return
    }
    const upstream = request(
      {
        host: '127.0.0.1',
        port: upstreamPort,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (reply) => {
        outgoing.writeHead(reply.statusCode ?? 502, reply.headers)
        reply.pipe(outgoing)
      },
    )
    upstream.on('error', () => outgoing.writeHead(502).end())
    incoming.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port
}
