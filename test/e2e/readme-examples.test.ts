/**
 * Every request example in README.md, run as written against the real server started on the bundled defaults
 * (what `npm start` runs on a fresh install: no `--model`, no key): `curl` commands through a shell with `KEY`
 * and `SECRET` set, JavaScript blocks as ES modules with `KEY` defined. Only the address changes (the server
 * listens on a free port instead of 7860). Each example must exit 0 and end in at least one new succeeded job
 * and no failed one; an output file (`-o`) must be an image. New README sections are picked up by themselves;
 * see `readme-examples.ts` for how to mark one that needs something a fresh install lacks.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServerProcess, startServer, tempDir } from '../integration/server-harness.js'
import { README_ADDRESS, readmeBlocks, serverExamples, shellCommands } from './readme-examples.js'
import { imageInfo } from './support.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const blocks = readmeBlocks(new URL('../../README.md', import.meta.url))
const examples = serverExamples(blocks)
// Inside node_modules so the examples' imports (openai, runpod-sdk) resolve as they would in a project.
const SCRIPTS = join(ROOT, 'node_modules', '.cache', 'pigment-readme-examples')
const ENV = { ...process.env, KEY: 'pk_readme_example', SECRET: 'readme-secret' }

let server: ServerProcess

beforeAll(async () => {
  server = await startServer(['--data-dir', tempDir('readme-examples')])
  mkdirSync(SCRIPTS, { recursive: true })
})

afterAll(async () => {
  await server?.stop()
})

interface JobList {
  readonly jobs: readonly { readonly id: string; readonly state: string }[]
}

async function jobsIn(states: string): Promise<Set<string>> {
  const response = await fetch(`${server.url}/api/jobs?state=${states}&limit=100`)
  const { jobs } = (await response.json()) as JobList
  if (jobs.length === 100) throw new Error('more jobs than one page: count them with the cursor')
  return new Set(jobs.map((job) => job.id))
}

async function settled(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await jobsIn('queued,running')).size > 0) {
    if (Date.now() > deadline) throw new Error('jobs still queued or running')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function run(kind: 'curl' | 'js', code: string, cwd: string) {
  const here = code.replace(README_ADDRESS, server.url)
  if (kind === 'curl') {
    return spawnSync('bash', ['-c', here], { cwd, env: ENV, encoding: 'utf8', timeout: 60_000 })
  }
  const file = join(SCRIPTS, `example-${Date.now()}.mjs`)
  writeFileSync(file, `const KEY = process.env.KEY\n${here}\n`)
  return spawnSync(process.execPath, [file], { cwd, env: ENV, encoding: 'utf8', timeout: 60_000 })
}

describe('README request examples', () => {
  it('are found (curl and JavaScript)', () => {
    expect(examples.filter((e) => e.kind === 'curl').length).toBeGreaterThanOrEqual(3)
    expect(examples.filter((e) => e.kind === 'js').length).toBeGreaterThanOrEqual(3)
  })

  for (const example of examples) {
    const title = `README.md:${example.line} ${example.code.split('\n')[0].slice(0, 80)}`
    it.skipIf(example.skip !== undefined)(title, async () => {
      const before = await jobsIn('succeeded,failed')
      const cwd = tempDir('readme-example')
      const result = run(example.kind, example.code, cwd)
      expect(result.status, `${result.stderr}\n${result.stdout}`).toBe(0)
      await settled()
      const after = await jobsIn('succeeded')
      const failed = await jobsIn('failed')
      expect([...failed].filter((id) => !before.has(id))).toEqual([])
      expect([...after].filter((id) => !before.has(id)).length).toBeGreaterThan(0)
      for (const name of readdirSync(cwd)) {
        const image = await imageInfo(readFileSync(join(cwd, name)))
        expect(image.width).toBeGreaterThan(0)
      }
    })
  }
})

/** What a command line of the README may start with: each exists after `npm ci` (or is an outside tool). */
const COMMANDS = new Set([
  'npm',
  'node',
  './bin/pigment.js',
  'curl',
  'pip',
  'optimum-cli',
  'docker',
  'cd',
  'git',
])

describe('README shell commands', () => {
  it('start with a command that exists after npm ci (no bare `pigment`, no `npx pigment`)', () => {
    const wrong: string[] = []
    for (const block of blocks.filter((b) => b.lang === 'sh' && b.skip === undefined)) {
      for (const command of shellCommands(block.code)) {
        const words = command.split(/\s+/).filter((word) => !/^[A-Z_][A-Z0-9_]*=/.test(word))
        const [first, second] = words
        const ok =
          COMMANDS.has(first) ||
          (first === 'npx' && second !== undefined && existsSync(join(ROOT, 'node_modules', '.bin', second)))
        if (!ok) wrong.push(`README.md:${block.line}: ${command}`)
      }
    }
    expect(wrong).toEqual([])
  })
})
