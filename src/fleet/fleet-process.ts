/**
 * One child process of a local fleet (`pigment serve` or `pigment worker`, run from the sources through
 * tsx): its JSON log lines, the moment it is ready, and stopping it by signal (SIGKILL included, for the
 * tests that kill a worker mid-job).
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const PIGMENT_ENTRY = fileURLToPath(new URL('./pigment-entry.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface FleetProcess {
  readonly name: string
  readonly child: ChildProcess
  readonly pid: number
  /** Parsed JSON log lines so far. */
  readonly logs: Record<string, unknown>[]
  readonly exited: Promise<number | string>
  stop(signal?: NodeJS.Signals): Promise<number | string>
}

export interface SpawnOptions {
  readonly name: string
  /** Arguments after the entry script, e.g. ['serve', '--port', '0', …]. */
  readonly args: readonly string[]
  readonly env: NodeJS.ProcessEnv
  /** A log line matching this means ready; its first group (if any) is returned. */
  readonly ready: RegExp
  /** Script run by `node --import tsx` (default: the pigment command). */
  readonly entry?: string
  readonly timeoutMs?: number
}

export async function spawnFleetProcess(
  options: SpawnOptions,
): Promise<{ process: FleetProcess; match: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', options.entry ?? PIGMENT_ENTRY, ...options.args],
    {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const logs: Record<string, unknown>[] = []
  let stderr = ''
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  const match = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${options.name} not ready after ${options.timeoutMs ?? 180_000} ms:\n${stderr}`))
    }, options.timeoutMs ?? 180_000)
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
        const found = options.ready.exec(line)
        if (found) {
          clearTimeout(timer)
          resolve(found[1] ?? found[0])
        }
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`${options.name} exited (${code}) before it was ready:\n${stderr}`))
    })
  })
  const fleetProcess: FleetProcess = {
    name: options.name,
    child,
    pid: child.pid ?? -1,
    logs,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
  return { process: fleetProcess, match }
}
