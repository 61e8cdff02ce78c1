/**
 * Debian's chromium, headless, driven by playwright-core for the studio tests: a fresh profile per run, no
 * network beyond the server under test, and screenshots kept under test-artifacts/studio/ to look at.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { tempDir } from '../integration/server-harness.js'

export const CHROMIUM = process.env.PIGMENT_CHROMIUM ?? '/usr/bin/chromium'
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/studio/', import.meta.url))

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface Browser {
  readonly context: BrowserContext
  readonly page: Page
  /** Console errors and page errors (a CSP violation shows up here). */
  readonly problems: string[]
  screenshot(name: string): Promise<void>
  close(): Promise<void>
}

export async function openBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const context = await chromium.launchPersistentContext(tempDir('chromium'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text())
  })
  page.on('pageerror', (error) => problems.push(error.message))
  return {
    context,
    page,
    problems,
    screenshot: async (name) => {
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
    },
    close: () => context.close(),
  }
}
