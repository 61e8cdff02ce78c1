#!/usr/bin/env node
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/cli/index.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('pigment: the build is missing; run `npm run build` (npm ci runs it for you).\n')
  process.exit(1)
}
const { main } = await import(entry.href)
await main(process.argv)
