/**
 * Following the README cannot break `npm test`: the folders its examples write into the working directory
 * (`models make-test-model --out ./tiny-sd`, `generate -o out/`, …) are not linted, because Biome checks the
 * source folders only and honours `.gitignore`.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLI = fileURLToPath(new URL('./server-cli.ts', import.meta.url))
const BIOME = join(ROOT, 'node_modules', '.bin', 'biome')

describe('biome check after the README example make-test-model --out ./tiny-sd', () => {
  // a folder of that name the user made is left alone
  it.skipIf(existsSync(join(ROOT, 'tiny-sd')))('still passes', () => {
    try {
      const made = spawnSync(
        process.execPath,
        ['--import', 'tsx', CLI, 'models', 'make-test-model', '--family', 'sd', '--out', './tiny-sd'],
        { cwd: ROOT, encoding: 'utf8' },
      )
      expect(made.status, made.stderr).toBe(0)
      expect(existsSync(join(ROOT, 'tiny-sd', 'model_index.json'))).toBe(true)
      const lint = spawnSync(BIOME, ['check', '.'], { cwd: ROOT, encoding: 'utf8' })
      expect(lint.stdout + lint.stderr).not.toContain('tiny-sd')
      expect(lint.status, lint.stdout + lint.stderr).toBe(0)
    } finally {
      rmSync(join(ROOT, 'tiny-sd'), { recursive: true, force: true })
    }
  })
})
