/**
 * The AUTOMATIC1111 dialect against the real server, driven with the request sequences its three best-known
 * clients send (read from their sources):
 * - Open WebUI `backend/open_webui/routers/images.py`: `authorization: Basic …` (or an empty header), verify
 *   with GET options, list sd-models, switch models by GETting options and POSTing the whole object back,
 *   then txt2img `{prompt, batch_size, width, height, steps, negative_prompt}`.
 * - SillyTavern `src/endpoints/stable-diffusion.js`: `Authorization: Basic base64(auth)` on every call, the
 *   menus (samplers, schedulers, sd-models, upscalers + latent-upscale-modes, sd-vae), set-model (POST
 *   options, then poll progress until progress 0 and job_count 0), txt2img with its whole body (its own `url`
 *   and `auth` included), and interrupt when its caller goes away.
 * - LibreChat `api/app/clients/tools/structured/StableDiffusion.js`: no auth, txt2img `{prompt,
 *   negative_prompt, cfg_scale: 4.5, steps: 22, width: 1024, height: 1024}`, then `JSON.parse(info)` for `seed`
 *   and `infotexts[0]`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { basic, call, createKeyWithCli } from '../integration/auth-helpers.js'
import { makeTestModel, type ServerProcess, startServer, tempDir } from '../integration/server-harness.js'
import { API_KEY, imageInfo } from './support.js'

let server: ServerProcess
let open: ServerProcess
let dataDir: string
/** SillyTavern's `auto_auth` and Open WebUI's `AUTOMATIC1111_API_AUTH`: `user:password`, the key as password. */
const auth = { authorization: basic('pigment', API_KEY) }

beforeAll(async () => {
  dataDir = tempDir('a1111')
  const [first, second] = await Promise.all([makeTestModel('tiny-sd'), makeTestModel('tiny-sd-b')])
  server = await startServer([
    '--data-dir',
    dataDir,
    '--model',
    first,
    '--model',
    second,
    '--default-model',
    'tiny-sd',
    '--api-key',
    API_KEY,
    '--preview-every',
    '1',
  ])
  open = await startServer(['--data-dir', tempDir('a1111-open'), '--model', await makeTestModel('tiny-sd')])
}, 120_000)

afterAll(async () => {
  await Promise.all([server?.stop(), open?.stop()])
})

interface Info {
  seed: number
  all_seeds: number[]
  infotexts: string[]
  width: number
  height: number
  sampler_name: string
  cfg_scale: number
  steps: number
  sd_model_name: string
  extra_generation_params: Record<string, string>
}

interface Txt2Img {
  images: string[]
  parameters: Record<string, unknown>
  info: string
}

const txt2img = (base: string, json: object, headers: Record<string, string> = auth) =>
  call('POST', `${base}/sdapi/v1/txt2img`, { headers, json })

describe('Open WebUI', () => {
  it('verifies, lists, switches the model by posting the options back, and generates a batch', async () => {
    const verify = await call('GET', `${server.url}/sdapi/v1/options`, { headers: auth })
    expect(verify.status).toBe(200)
    const models = await call('GET', `${server.url}/sdapi/v1/sd-models`, { headers: auth })
    const listed = (models.body as { title: string; model_name: string }[]).map((m) => ({
      id: m.title,
      name: m.model_name,
    }))
    expect(listed.map((model) => model.id).sort()).toEqual(['tiny-sd', 'tiny-sd-b'])

    // set_image_model: GET options, change sd_model_checkpoint, POST the whole object back
    const options = (await call('GET', `${server.url}/sdapi/v1/options`, { headers: auth })).body as Record<
      string,
      unknown
    >
    expect(options.sd_model_checkpoint).toBe('tiny-sd')
    const posted = await call('POST', `${server.url}/sdapi/v1/options`, {
      headers: auth,
      json: { ...options, sd_model_checkpoint: 'tiny-sd-b' },
    })
    expect(posted.status).toBe(200)
    const after = await call('GET', `${server.url}/sdapi/v1/options`, { headers: auth })
    expect((after.body as Record<string, unknown>).sd_model_checkpoint).toBe('tiny-sd-b')

    const answer = await txt2img(server.url, {
      prompt: 'a red cube',
      batch_size: 2,
      width: 64,
      height: 64,
      steps: 3,
      negative_prompt: 'blurry',
    })
    expect(answer.status).toBe(200)
    const body = answer.body as Txt2Img
    expect(body.images).toHaveLength(2)
    const info = JSON.parse(body.info) as Info
    expect(info.sd_model_name).toBe('tiny-sd-b')
    expect(info.all_seeds).toEqual([info.seed, info.seed + 1])
    expect(info).toMatchObject({ width: 64, height: 64, steps: 3 })
    for (const [i, image] of body.images.entries()) {
      const png = await imageInfo(Buffer.from(image, 'base64'))
      expect(png).toMatchObject({ format: 'png', width: 64, height: 64 })
      expect(png.parameters?.seed).toBe(info.all_seeds[i])
      expect(info.infotexts[i]).toBe(
        `a red cube\nNegative prompt: blurry\nSteps: 3, Sampler: Euler, Schedule type: Normal, CFG scale: 7, Seed: ${info.all_seeds[i]}, Size: 64x64, Model: tiny-sd-b`,
      )
    }
    // back to the default for the other tests of this key
    await call('POST', `${server.url}/sdapi/v1/options`, {
      headers: auth,
      json: { sd_model_checkpoint: 'tiny-sd' },
    })
  })

  it('an unknown checkpoint is a 404 in A1111’s shape, and the option is unchanged', async () => {
    await call('POST', `${server.url}/sdapi/v1/options`, {
      headers: auth,
      json: { sd_model_checkpoint: 'tiny-sd' },
    })
    const answer = await call('POST', `${server.url}/sdapi/v1/options`, {
      headers: auth,
      json: { sd_model_checkpoint: 'nope.safetensors [0123456789]' },
    })
    expect(answer.status).toBe(404)
    expect(answer.body).toEqual({
      error: 'HTTPException',
      detail: 'model "nope.safetensors [0123456789]" not found',
      body: '',
      errors: '404: model "nope.safetensors [0123456789]" not found',
    })
    const options = await call('GET', `${server.url}/sdapi/v1/options`, { headers: auth })
    expect((options.body as Record<string, unknown>).sd_model_checkpoint).toBe('tiny-sd')
  })
})

describe('SillyTavern', () => {
  it('fills its menus', async () => {
    const get = async (path: string) => {
      const answer = await call('GET', `${server.url}/sdapi/v1/${path}`, { headers: auth })
      expect(answer.status, path).toBe(200)
      return answer.body as Record<string, unknown>[]
    }
    const samplers = (await get('samplers')).map((x) => x.name)
    expect(samplers).toEqual(
      expect.arrayContaining(['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M SDE', 'UniPC']),
    )
    const schedulers = (await get('schedulers')).map((x) => x.name)
    expect(schedulers).toEqual(expect.arrayContaining(['automatic', 'karras', 'exponential', 'sgm_uniform']))
    expect((await get('sd-models')).map((x) => x.title)).toContain('tiny-sd')
    expect(await get('upscalers')).toEqual([])
    expect(await get('latent-upscale-modes')).toEqual([])
    expect(await get('sd-vae')).toEqual([])
  })

  it('set-model: POST options, then progress reads idle', async () => {
    const set = await call('POST', `${server.url}/sdapi/v1/options`, {
      headers: { 'content-type': 'application/json', ...auth },
      json: { sd_model_checkpoint: 'tiny-sd' },
    })
    expect(set.status).toBe(200)
    const progress = await call('GET', `${server.url}/sdapi/v1/progress`, { headers: auth })
    const body = progress.body as { progress: number; state: { job_count: number } }
    expect(body.progress).toBe(0)
    expect(body.state.job_count).toBe(0)
  })

  it('generate: its whole body, with a ≥ 1.9 sampler and scheduler and its own url/auth fields', async () => {
    const answer = await txt2img(server.url, {
      url: server.url,
      auth: `pigment:${API_KEY}`,
      prompt: 'a lighthouse',
      negative_prompt: 'lowres',
      sampler_name: 'DPM++ 2M',
      scheduler: 'karras',
      steps: 4,
      cfg_scale: 7,
      width: 64,
      height: 64,
      restore_faces: false,
      enable_hr: false,
      hr_upscaler: 'Latent',
      hr_scale: 2,
      denoising_strength: 0.7,
      hr_second_pass_steps: 0,
      seed: 1234,
      override_settings: { CLIP_stop_at_last_layers: 1 },
      override_settings_restore_afterwards: true,
      clip_skip: 1,
      save_images: true,
      send_images: true,
      do_not_save_grid: false,
      do_not_save_samples: false,
    })
    expect(answer.status).toBe(200)
    const info = JSON.parse((answer.body as Txt2Img).info) as Info
    // its own fields are not echoed: `auth` holds the key
    expect(Object.keys((answer.body as Txt2Img).parameters)).not.toContain('auth')
    expect((answer.body as Txt2Img).parameters).toMatchObject({ seed: 1234, scheduler: 'Karras' })
    expect(info).toMatchObject({ seed: 1234, all_seeds: [1234], sampler_name: 'DPM++ 2M', cfg_scale: 7 })
    expect(info.infotexts[0]).toContain(
      'Steps: 4, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234',
    )
  })

  it('an old client’s "DPM++ 2M Karras" folds the schedule into the sampler name', async () => {
    const answer = await txt2img(server.url, {
      prompt: 'a lighthouse',
      sampler_name: 'DPM++ 2M Karras',
      steps: 2,
      width: 64,
      height: 64,
      seed: 5,
    })
    const info = JSON.parse((answer.body as Txt2Img).info) as Info
    expect(info.sampler_name).toBe('DPM++ 2M')
    expect(info.extra_generation_params['Schedule type']).toBe('Karras')
  })

  it('progress shows the running batch with a preview; skip drops it; interrupt ends the request', async () => {
    const seed = 77
    const pending = txt2img(server.url, {
      prompt: 'slow',
      n_iter: 3,
      steps: 40,
      width: 256,
      height: 256,
      seed,
    })
    const seen = await pollProgress((p) => p.state.job_count === 3 && p.state.sampling_step > 0)
    expect(seen.progress).toBeGreaterThan(0.01)
    expect(seen.progress).toBeLessThanOrEqual(1)
    expect(seen.state.job_no).toBe(0)
    expect(typeof seen.current_image).toBe('string')
    expect((await imageInfo(Buffer.from(seen.current_image as string, 'base64'))).format).toBe('png')
    expect((await call('POST', `${server.url}/sdapi/v1/skip`, { headers: auth })).status).toBe(200)
    await pollProgress((p) => p.state.job_no === 1 && p.state.sampling_step > 0)
    expect((await call('POST', `${server.url}/sdapi/v1/interrupt`, { headers: auth })).status).toBe(200)
    const answer = await pending
    expect(answer.status).toBe(200)
    const body = answer.body as Txt2Img
    // batch 0 was skipped, batch 1 interrupted, batch 2 never started
    expect(body.images).toEqual([])
    expect((JSON.parse(body.info) as Info).all_seeds).toEqual([])
    const idle = await call('GET', `${server.url}/sdapi/v1/progress`, { headers: auth })
    expect((idle.body as Progress).state.job_count).toBe(0)
  })
})

interface Progress {
  progress: number
  eta_relative: number
  current_image: string | null
  state: { job_count: number; job_no: number; sampling_step: number; sampling_steps: number }
}

async function pollProgress(until: (p: Progress) => boolean): Promise<Progress> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const answer = await call('GET', `${server.url}/sdapi/v1/progress`, { headers: auth })
    const progress = answer.body as Progress
    if (until(progress)) return progress
    if (Date.now() > deadline) throw new Error(`progress never matched: ${JSON.stringify(progress)}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('LibreChat', () => {
  it('no auth header on a server without keys; info parses with seed and infotexts', async () => {
    const answer = await txt2img(
      open.url,
      { prompt: 'a fox', negative_prompt: 'blurry', cfg_scale: 4.5, steps: 22, width: 1024, height: 1024 },
      {},
    )
    expect(answer.status).toBe(200)
    const body = answer.body as Txt2Img
    const info = JSON.parse(body.info) as Info
    expect(Number.isInteger(info.seed)).toBe(true)
    expect(info.seed).toBeGreaterThanOrEqual(0)
    expect(info.infotexts[0].split('\n').pop()).toBe(
      `Steps: 22, Sampler: Euler, Schedule type: Normal, CFG scale: 4.5, Seed: ${info.seed}, Size: 1024x1024, Model: tiny-sd`,
    )
    expect(await imageInfo(Buffer.from(body.images[0], 'base64'))).toMatchObject({
      width: 1024,
      height: 1024,
    })
  }, 120_000)
})

describe('keys, credits, errors', () => {
  it('no key or a wrong one: 401 with WWW-Authenticate: Basic, in A1111’s shape', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: basic('pigment', 'wrong') },
    ]
    for (const headers of attempts) {
      const answer = await call('GET', `${server.url}/sdapi/v1/sd-models`, { headers })
      expect(answer.status).toBe(401)
      expect(answer.headers.get('www-authenticate')).toBe('Basic')
      expect(answer.body).toMatchObject({ error: 'HTTPException', body: '' })
    }
  })

  it('a key split as user:password (pk_<id> : secret) works, and its model choice is its own', async () => {
    const token = await createKeyWithCli(dataDir, ['--name', 'a1111-user'])
    const cut = token.indexOf('_', 3)
    const headers = { authorization: basic(token.slice(0, cut), token.slice(cut + 1)) }
    await call('POST', `${server.url}/sdapi/v1/options`, {
      headers,
      json: { sd_model_checkpoint: 'tiny-sd-b' },
    })
    const mine = await call('GET', `${server.url}/sdapi/v1/options`, { headers })
    expect((mine.body as Record<string, unknown>).sd_model_checkpoint).toBe('tiny-sd-b')
    const others = await call('GET', `${server.url}/sdapi/v1/options`, { headers: auth })
    expect((others.body as Record<string, unknown>).sd_model_checkpoint).toBe('tiny-sd')
  })

  it('too few credits: 402 in A1111’s shape, nothing kept', async () => {
    const token = await createKeyWithCli(dataDir, ['--name', 'poor', '--credits', '0.001'])
    const answer = await txt2img(
      server.url,
      { prompt: 'x', width: 1024, height: 1024, steps: 30 },
      { authorization: basic('pigment', token) },
    )
    expect(answer.status).toBe(402)
    expect(answer.body).toMatchObject({ error: 'HTTPException', body: '' })
  })

  it('a bad value is FastAPI’s 422 naming the field; an unknown sampler is A1111’s 404', async () => {
    const wrongType = await txt2img(server.url, { prompt: 'x', steps: 'many' })
    expect(wrongType.status).toBe(422)
    expect(wrongType.body).toEqual({
      detail: [{ loc: ['body', 'steps'], msg: 'must be an integer, got "many"', type: 'value_error' }],
    })
    const badSize = await txt2img(server.url, { prompt: 'x', width: 100, height: 64, steps: 1 })
    expect(badSize.status).toBe(422)
    expect((badSize.body as { detail: { loc: string[] }[] }).detail[0].loc).toEqual(['body', 'width'])
    const tooMany = await txt2img(server.url, { prompt: 'x', n_iter: 5, batch_size: 2, steps: 1 })
    expect(tooMany.status).toBe(422)
    expect((tooMany.body as { detail: { loc: string[] }[] }).detail[0].loc).toEqual(['body', 'n_iter'])
    const sampler = await txt2img(server.url, { prompt: 'x', sampler_name: 'Nope', steps: 1 })
    expect(sampler.status).toBe(404)
    expect(sampler.body).toEqual({
      error: 'HTTPException',
      detail: 'Sampler not found',
      body: '',
      errors: '404: Sampler not found',
    })
  })

  it('seed -1 draws one; n_iter × batch_size numbers the seeds on; ignored fields are reported', async () => {
    const random = JSON.parse(
      (
        (await txt2img(server.url, { prompt: 'x', seed: -1, steps: 1, width: 64, height: 64 }))
          .body as Txt2Img
      ).info,
    ) as Info
    expect(random.seed).toBeGreaterThanOrEqual(0)
    const answer = await txt2img(server.url, {
      prompt: 'x',
      seed: 42,
      n_iter: 2,
      batch_size: 2,
      steps: 1,
      width: 64,
      height: 64,
      restore_faces: true,
      enable_hr: true,
      alwayson_scripts: { ADetailer: { args: [] } },
    })
    const body = answer.body as Txt2Img
    expect(body.images).toHaveLength(4)
    const info = JSON.parse(body.info) as Info
    expect(info.all_seeds).toEqual([42, 43, 44, 45])
    expect(Object.keys(info.extra_generation_params)).toEqual(
      expect.arrayContaining([
        'restore_faces (not run by Pigment)',
        'enable_hr (not run by Pigment)',
        'alwayson_scripts (not run by Pigment)',
      ]),
    )
    expect(body.parameters).toMatchObject({ seed: 42, n_iter: 2, batch_size: 2, enable_hr: true })
  })
})
