/**
 * "Show the API" (web/src/api-calls.ts) must show calls that work: each dialect's call for a form is sent,
 * with its own header form for the key, to the app on fakes, and the job it queues must carry the form's
 * settings (those the dialect can say). The Segmind copies of the sampler lists must match the schema's.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { type Caller, presentedKeys } from '../../src/api/auth.js'
import { SAMPLER_NAMES, SCHEDULERS } from '../../src/api/segmind/schema.js'
import { fakeDeps, fakeModels } from '../../src/api/shared/testing/fake-deps.js'
import { buildApp } from '../../src/app.js'
import { errors } from '../../src/core/errors.js'
import {
  type ApiCall,
  apiCalls,
  SEGMIND_SAMPLERS,
  SEGMIND_SCHEDULERS,
  toCurl,
} from '../../web/src/api-calls.js'
import { EMPTY_FORM, type FormValues } from '../../web/src/form-values.js'

const TOKEN = 'pk_0123456789abcdef_secret'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

function caller(headers: IncomingHttpHeaders): Caller {
  if (!presentedKeys(headers).includes(TOKEN)) throw errors.AUTH_UNAUTHORIZED('Missing API key.')
  return { keyId: 'k1', role: 'user', remainingCredits: null, rpm: null }
}

/** The fake catalog's model, with room for Segmind's 768–2048 sizes. */
function wideModels() {
  const base = fakeModels()
  return {
    ...base,
    async profile(name: string | undefined) {
      const profile = await base.profile(name)
      return { ...profile, limits: { ...profile.limits, maxSize: 1024 } }
    },
  }
}

async function start() {
  const deps = { ...fakeDeps({ caller }), models: wideModels() }
  deps.worker.autoRun()
  app = await buildApp(deps)
  return deps
}

function headersFor(call: ApiCall): Record<string, string> {
  switch (call.auth) {
    case 'bearer':
      return { authorization: `Bearer ${TOKEN}` }
    case 'bare':
      return { authorization: TOKEN }
    case 'x-api-key':
      return { 'x-api-key': TOKEN }
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}` }
  }
}

const FORM: FormValues = {
  ...EMPTY_FORM,
  prompt: "a fox's den",
  negativePrompt: 'blurry',
  model: 'tiny',
  width: 768,
  height: 832,
  steps: 12,
  cfg: 3.5,
  sampler: 'dpmpp_2m',
  scheduler: 'normal',
  seed: 4242,
  seedLocked: true,
  n: 2,
}

describe('Show the API', () => {
  it("sends each dialect's call with its key form, and the job gets the form's settings", async () => {
    const deps = await start()
    for (const call of apiCalls(FORM)) {
      const response = await app!.inject({
        method: call.method,
        url: call.path,
        payload: call.body,
        headers: headersFor(call),
      })
      expect(response.statusCode, `${call.id}: ${response.body.slice(0, 300)}`).toBeLessThan(300)
      const [job] = (await deps.jobs.list({}, { limit: 1 })).jobs
      const { request } = job
      expect(request, call.id).toMatchObject({ model: 'tiny', prompt: FORM.prompt, width: 768, height: 832 })
      if (call.id === 'openai') continue // OpenAI's API has no steps, cfg, sampler or seed
      expect(request, call.id).toMatchObject({ steps: 12, cfg: 3.5, seed: 4242, negativePrompt: 'blurry' })
      expect(request.n, call.id).toBe(call.id === 'chutes' ? 1 : 2)
      if (['native', 'segmind', 'scenario'].includes(call.id)) {
        expect(request, call.id).toMatchObject({ sampler: 'dpmpp_2m', scheduler: 'normal' })
      } else {
        expect(call.notes.join(' '), call.id).toContain('sampler')
      }
    }
  })

  it('leaves a random seed out, says what a dialect cannot express, and never prints the key', () => {
    const calls = apiCalls({
      ...FORM,
      width: 64,
      height: 64,
      seedLocked: false,
      sampler: 'lcm',
      scheduler: 'beta',
    })
    for (const call of calls) {
      expect(JSON.stringify(call.body), call.id).not.toContain('4242')
      expect(call.notes.join(' '), call.id).toMatch(/seed|not in the OpenAI/)
    }
    const segmind = calls.find((call) => call.id === 'segmind')!
    expect(segmind.notes.join('\n')).toMatch(/width\/height: Segmind accepts 768/)
    expect(segmind.body).not.toHaveProperty('sampler_name')
    const scenario = calls.find((call) => call.id === 'scenario')!
    expect(scenario.body).not.toHaveProperty('scheduler')

    const curl = toCurl(calls[0], 'http://studio.test', true)
    expect(curl).toContain("curl -s 'http://studio.test/api/generations'")
    expect(curl).toContain('Bearer $PIGMENT_API_KEY')
    expect(curl).toContain(`'\\''`) // the prompt's quote, escaped for the shell
    expect(toCurl(calls[0], 'http://studio.test', false)).not.toContain('PIGMENT_API_KEY')
  })

  it("keeps the page's copy of Segmind's sampler and scheduler names equal to the schema's", () => {
    expect([...SEGMIND_SAMPLERS]).toEqual([...SAMPLER_NAMES])
    expect([...SEGMIND_SCHEDULERS]).toEqual([...SCHEDULERS])
  })
})
