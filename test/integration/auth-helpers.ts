/**
 * Shared pieces of the `auth-*` integration tests: the `pigment keys` command run as a child process (on
 * the same data folder as a running server), the header form each dialect's clients send, and plain HTTP
 * helpers that keep status, headers and body together.
 * @module
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ENTRY = fileURLToPath(new URL('./server-cli.ts', import.meta.url))

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `pigment <args>` from the sources and waits for it to end (killed after `timeoutMs`). */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/** `pigment keys create …` on a data folder; resolves with the token it printed. */
export async function createKeyWithCli(dataDir: string, args: readonly string[]): Promise<string> {
  const result = await runCli(['keys', 'create', '--data-dir', dataDir, ...args])
  if (result.code !== 0) throw new Error(`keys create failed (${result.code}): ${result.stderr}`)
  return result.stdout.trim()
}

export function keyIdOfToken(token: string): string {
  return token.split('_')[1]
}

export const basic = (user: string, secret: string) =>
  `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`

/** Scenario's client sends the key and the secret apart: `pk_<id>` and the rest of the token. */
export function scenarioPair(token: string): string {
  const cut = token.indexOf('_', 3)
  return basic(token.slice(0, cut), token.slice(cut + 1))
}

export interface Answer {
  readonly status: number
  readonly headers: Headers
  /** Parsed JSON, or the text when the body is not JSON. */
  readonly body: unknown
}

export async function call(
  method: string,
  url: string,
  options: { readonly headers?: Record<string, string>; readonly json?: unknown } = {},
): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.json === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
  })
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // an image or plain text: keep the text
  }
  return { status: response.status, headers: response.headers, body }
}

/** A small, fast generation on the tiny test model (64×64, 4 steps, one image). */
export const SMALL = { width: 64, height: 64, steps: 4 } as const

/** The credits SMALL costs: 64·64·4 pixel-steps / (10 · 2^20) rounded up to 0.001 (see src/credits/cost.ts). */
export const SMALL_COST = 0.002
