/**
 * Starts the real `pigment serve` in a child process on 127.0.0.1, port 0, and talks to it over HTTP.
 * The child runs the TypeScript sources through tsx (`server-cli.ts`), so the tests always exercise the
 * working tree without a build step; it is otherwise the same process `bin/pigment.js serve` starts.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeTestModel } from '../../src/pipelines/test-models/write-test-model.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ENTRY = fileURLToPath(new URL('./server-cli.ts', import.meta.url))
const LISTENING = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Parsed JSON log lines so far (pino). */
  readonly logs: Record<string, unknown>[]
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string>
  stop(signal?: NodeJS.Signals): Promise<number | string>
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pigment-${prefix}-`))
}

/** A tiny random-weight SD model (Optimum layout, well under 1 MB); named after its folder. */
export async function makeTestModel(name = 'tiny-sd'): Promise<string> {
  const dir = join(tempDir('model'), name)
  await writeTestModel({ family: 'sd', out: dir, seed: 7 })
  return dir
}

export async function startServer(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', ENTRY, 'serve', '--host', '127.0.0.1', '--port', '0', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, PIGMENT_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const logs: Record<string, unknown>[] = []
  let stderr = ''
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>)
        } catch {
          logs.push({ msg: line })
        }
        const match = LISTENING.exec(line)
        if (match) resolve(match[1])
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    void exited.then((code) =>
      reject(new Error(`pigment serve exited (${code}) before listening:\n${stderr}`)),
    )
  })
  return {
    url,
    child,
    logs,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

export interface JobBody {
  readonly id: string
  readonly state: string
  readonly attempts: number
  readonly error: { readonly code: string; readonly message: string } | null
  readonly images: readonly { readonly assetId: string; readonly url: string; readonly fileUrl: string }[]
  readonly progress: { readonly step: number; readonly steps: number } | null
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

const FINAL = new Set(['succeeded', 'failed', 'canceled', 'expired'])

/** Polls GET /api/jobs/:id until the job is final (or `until` says stop); fails after `timeoutMs`. */
export async function pollJob(
  base: string,
  id: string,
  until: (job: JobBody) => boolean = (job) => FINAL.has(job.state),
  timeoutMs = 60_000,
): Promise<JobBody> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await fetch(`${base}/api/jobs/${id}`)
    const job = (await response.json()) as JobBody
    if (until(job)) return job
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export interface SseMessage {
  readonly id?: string
  readonly event: string
  readonly data: unknown
}

/** Reads a whole event stream (until the server ends it) and parses its messages. */
export async function readEvents(url: string, headers: Record<string, string> = {}): Promise<SseMessage[]> {
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers } })
  if (response.status === 204) return []
  const text = await response.text()
  return parseEvents(text)
}

export function parseEvents(text: string): SseMessage[] {
  const messages: SseMessage[] = []
  for (const block of text.split('\n\n')) {
    let id: string | undefined
    let event = 'message'
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4)
      else if (line.startsWith('event: ')) event = line.slice(7)
      else if (line.startsWith('data: ')) data.push(line.slice(6))
    }
    if (data.length > 0)
      messages.push({ ...(id === undefined ? {} : { id }), event, data: JSON.parse(data.join('\n')) })
  }
  return messages
}
