/**
 * The README's first command after `npm ci`: `npm start` starts the server from the build at once (no npx
 * install), and SIGTERM to the `npm` process, as a terminal's Ctrl-C or a process manager sends it, stops the
 * server too: npm forwards the signal, and the start script `exec`s node so no shell sits in between to swallow
 * it. Needs the build (`npm ci` runs it through `prepare`).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tempDir } from './server-harness.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const LISTENING = /Server listening at (http:\/\/127\.0\.0\.1:(\d+))/
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function listening(child: ChildProcess): Promise<{ url: string; pid: number }> {
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      const match = LISTENING.exec(out)
      const pid = /"pid":(\d+)[^\n]*Server listening/.exec(out)
      if (match && pid) resolve({ url: match[1], pid: Number(pid[1]) })
    })
    child.once('exit', (code) => reject(new Error(`npm start exited (${code}) before listening:\n${out}`)))
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe.skipIf(!existsSync(`${ROOT}dist/cli/index.js`))('npm start', () => {
  it('serves, and SIGTERM to npm stops the server and frees the port', async () => {
    const child = spawn(
      NPM,
      ['start', '--', '--port', '0', '--data-dir', tempDir('npm-start'), '--no-bundled-models'],
      {
        cwd: ROOT,
        env: { ...process.env, PIGMENT_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const { url, pid } = await listening(child)
    expect(pid).not.toBe(child.pid)
    expect((await fetch(`${url}/healthz`)).status).toBe(200)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(alive(pid)).toBe(false)
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
  })
})
