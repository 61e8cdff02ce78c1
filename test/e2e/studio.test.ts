/**
 * The studio page (`/`) in a real browser against the real server and the bundled model: generate with the
 * keyboard, watch progress, find the image in the gallery, reuse its settings, see the same request in
 * every dialect, cancel a long job, download and delete, then the 401 and the key once auth is on. Each
 * state is kept as a screenshot under test-artifacts/studio/. Every wait is on a page state, never a timer.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AssetListBody, JobBody, ModelListBody } from '../../src/api/native/schema.js'
import { postJson, type ServerProcess, startServer, tempDir } from '../integration/server-harness.js'
import { type Browser, CHROMIUM, openBrowser } from './studio-browser.js'

const WEB_CONFIG = fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url))
const STATE_TIMEOUT = 45_000

let server: ServerProcess
let browser: Browser
let opening: Promise<Browser> | undefined
let page: Page
const dataDir = tempDir('studio')

describe.skipIf(!existsSync(CHROMIUM))('studio page in chromium', () => {
  beforeAll(async () => {
    opening = openBrowser()
    // The page under test is the working tree's, not whatever was built last.
    await build({ configFile: WEB_CONFIG, logLevel: 'warn' })
    server = await startServer(['--data-dir', dataDir, '--preview-every', '1'], {
      PIGMENT_MODELS_DIR: join(tempDir('no-models'), 'models'),
    })
    browser = await opening
    page = browser.page
    page.setDefaultTimeout(STATE_TIMEOUT)
  }, 120_000)

  afterAll(async () => {
    // Closed even when the server failed to start, so no chromium outlives the test.
    await (await opening?.catch(() => undefined))?.close()
    await server?.stop()
  })

  const jobPanel = (state: string) => page.locator(`.job-panel[data-state="${state}"]`)
  const gallery = () => page.locator('.gallery .grid li')
  const api = async <T>(path: string): Promise<T> =>
    (await fetch(`${server.url}${path}`)).json() as Promise<T>
  const assets = async () => (await api<AssetListBody>('/api/assets')).assets

  it('serves the page with a strict CSP, offline, and generates from the keyboard', async () => {
    const response = await page.goto(server.url)
    expect(response?.status()).toBe(200)
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'")
    await expect.poll(() => page.getByLabel('Model', { exact: true }).inputValue()).toBe('pigment-shapes')
    await page.getByText('auth is off').waitFor()
    await browser.screenshot('01-empty')

    await page.getByLabel('Prompt', { exact: true }).fill('a red circle on a white background')
    await page.getByLabel('Prompt', { exact: true }).press('Control+Enter')
    await jobPanel('succeeded').waitFor()
    await gallery().first().locator('img').waitFor()
    expect(await page.locator('.job-panel .results img').count()).toBe(1)
    // Thumbnails load from the expiring signed link: no request against the key's rate limit.
    expect(await gallery().first().locator('img').getAttribute('src')).toMatch(/\/files\/.*[?&]sig=/)
    await browser.screenshot('02-generated')

    const [made, ...others] = await assets()
    expect(others).toHaveLength(0)
    expect(made.parameters.prompt).toBe('a red circle on a white background')
    // The random seed the server picked is shown afterwards, unlocked.
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe(String(made.seed))
  })

  it('opens an image with its parameters and reuses its settings', async () => {
    await page.getByLabel('Prompt', { exact: true }).fill('something else')
    await page.getByLabel('Steps', { exact: true }).fill('9')
    await gallery().first().getByRole('button').click()
    const dialog = page.getByRole('dialog')
    await dialog.locator('.full-image img').waitFor()
    await expect.poll(() => dialog.getByText('a red circle on a white background').count()).toBe(1)
    await browser.screenshot('03-image-dialog')

    const [asset] = await assets()
    await dialog.getByRole('button', { name: 'Use these settings' }).click()
    await dialog.waitFor({ state: 'hidden' })
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toBe(asset.parameters.prompt)
    expect(await page.getByLabel('Steps', { exact: true }).inputValue()).toBe(String(asset.parameters.steps))
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe(String(asset.seed))
    expect(await page.getByRole('button', { name: 'Seed locked' }).getAttribute('aria-pressed')).toBe('true')

    await page.getByText('Show the API').click()
    const code = page.locator('.show-api pre code')
    expect(await code.textContent()).toContain(`"seed": ${asset.seed}`)
    await page.getByRole('tab', { name: 'RunPod runsync' }).click()
    expect(await code.textContent()).toContain('/v2/pigment-shapes/runsync')
    await page.getByRole('tab', { name: 'Scenario txt2img' }).click()
    expect(await code.textContent()).toContain(`"seed": "${asset.seed}"`)
    await browser.screenshot('04-reused-show-api')

    // The same settings make the same image again.
    await page.getByRole('button', { name: 'Generate' }).click()
    await jobPanel('succeeded').waitFor()
    await expect.poll(async () => (await assets()).length).toBe(2)
    const [again, first] = await assets()
    expect(again.sha256).toBe(first.sha256)
  })

  it('shows the queue position, progress with previews, and cancels a long job', async () => {
    const { models } = await api<ModelListBody>('/api/models')
    const limits = models[0].limits as { maxSize: number; maxSteps: number }
    const long = { width: limits.maxSize, height: limits.maxSize, steps: limits.maxSteps, n: 4 }
    // Another client's long job holds the one worker, so the page's job waits in the queue first.
    const blocker = await postJson(`${server.url}/api/generations`, {
      prompt: 'blue square',
      async: true,
      ...long,
    })
    expect(blocker.status).toBe(202)
    const blockerId = ((await blocker.json()) as JobBody).id

    await page.getByLabel('Size', { exact: true }).selectOption('custom')
    await page.getByLabel('Width', { exact: true }).fill(String(long.width))
    await page.getByLabel('Height', { exact: true }).fill(String(long.height))
    await page.getByLabel('Steps', { exact: true }).fill(String(long.steps))
    await page.getByLabel('Images', { exact: true }).fill(String(long.n))
    await page.getByRole('button', { name: 'Generate' }).click()
    await page.getByRole('status').getByText('Queued: next to run').waitFor()
    await browser.screenshot('05-queued')

    const canceled = await fetch(`${server.url}/api/jobs/${blockerId}/cancel`, { method: 'POST' })
    expect(canceled.status).toBeLessThan(300)
    // Mid-run: the bar has moved and a preview is shown.
    await page.locator('.job-panel[data-state="running"] .preview').waitFor()
    await page.waitForFunction("Number(document.querySelector('#job-progress')?.getAttribute('value')) > 0")
    expect(await page.getByRole('status').textContent()).toMatch(/Image 1 of 4, step \d+ of \d+/)
    await browser.screenshot('06-progress')

    await page.getByRole('button', { name: 'Cancel' }).click()
    await jobPanel('canceled').waitFor()
    await browser.screenshot('07-canceled')
    const { jobs } = await api<{ jobs: JobBody[] }>('/api/jobs?limit=1')
    expect(jobs[0].state).toBe('canceled')
    expect(jobs[0].id).not.toBe(blockerId)
  })

  it('downloads and deletes an image', async () => {
    const before = (await assets()).length
    await gallery().first().getByRole('button').click()
    const dialog = page.getByRole('dialog')
    const download = dialog.getByRole('link', { name: 'Download' })
    await download.waitFor()
    expect(await download.getAttribute('href')).toMatch(/^blob:/)
    expect(await download.getAttribute('download')).toMatch(/^pigment-[0-9a-z]{26}\.png$/)
    await dialog.getByRole('button', { name: 'Delete' }).click()
    await dialog.getByRole('button', { name: 'Really delete' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await expect.poll(() => gallery().count()).toBe(before - 1)
    expect(await assets()).toHaveLength(before - 1)
  })

  it('works at phone width and in dark mode', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.getByLabel('Prompt', { exact: true }).waitFor()
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')
    expect(overflow).toBeLessThanOrEqual(0)
    await browser.screenshot('08-phone-dark')
    await page.setViewportSize({ width: 1280, height: 900 })
    await page.emulateMedia({ colorScheme: 'light' })
  })

  it('shows the 401 once a key exists, then the key’s credits and rate limit', async () => {
    // With auth off the caller is an admin: the admin API makes the key, and from then on every request needs one.
    const created = await postJson(`${server.url}/api/admin/keys`, {
      name: 'studio',
      credits: 25,
      rpm: 120,
      concurrency: 2,
    })
    expect(created.status).toBe(201)
    const { token } = (await created.json()) as { token: string }
    // The server re-reads whether keys exist about once a second.
    await expect.poll(async () => (await fetch(`${server.url}/api/me`)).status, { timeout: 10_000 }).toBe(401)
    await page.reload()
    const alert = page.getByRole('alert')
    await alert.getByText('AUTH_UNAUTHORIZED').waitFor()
    expect(await alert.textContent()).toContain('401')
    await browser.screenshot('09-needs-key')

    await page.getByLabel('API key', { exact: true }).fill('pk_0123456789abcdef_wrong')
    await page.getByRole('button', { name: 'Use key' }).click()
    await alert.getByText('Invalid API key.').waitFor()

    await page.getByLabel('API key', { exact: true }).fill(token)
    await page.getByRole('button', { name: 'Use key' }).click()
    await page.getByTestId('credits').waitFor()
    expect(await page.getByTestId('credits').textContent()).toBe('25.000')
    await page.getByText('120 requests/min').waitFor()
    await page.getByText('No images yet').waitFor()
    await browser.screenshot('10-key')

    // A generation with the key is the key's: it shows in its gallery and its cost leaves the balance.
    await page.getByLabel('Prompt', { exact: true }).fill('a red triangle')
    await page.getByRole('button', { name: 'Generate' }).click()
    await jobPanel('succeeded').waitFor()
    await gallery().first().locator('img').waitFor()
    await expect.poll(() => page.getByTestId('credits').textContent()).not.toBe('25.000')
    const spent = 25 - Number(await page.getByTestId('credits').textContent())
    expect(spent).toBeGreaterThan(0)
    expect(spent).toBeLessThan(1)
    await browser.screenshot('11-key-generated')
    // The key never lands in a URL the page requested.
    expect(server.logs.some((line) => JSON.stringify(line).includes(token.slice(-20)))).toBe(false)
    // Chrome logs each refused request (the 401s above) as a console error; anything else is a fault.
    expect(browser.problems.filter((text) => !/status of 401/.test(text))).toEqual([])
  })
})
