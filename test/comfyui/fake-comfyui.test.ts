// The fake's controls do what the ComfyUI backend's tests rely on: images that tell which seed made them,
// ComfyUI's own workflow templates accepted, out-of-memory errors as torch reports them, restarts that forget,
// a silent socket, a hung prompt, previews with metadata.

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type FakeComfyUI, fakeImageColor, startFakeComfyUI } from '../support/fake-comfyui/index.js'

/** a text message, or a binary frame as `{type: 'binary', data: {}, frame}` */
interface Message {
  type: string
  data: Record<string, unknown>
  frame?: Buffer
}

const MODELS = {
  checkpoints: ['v1-5-pruned-emaonly.safetensors'],
  diffusion_models: ['Chroma1-HD-fp8_scaled_rev2.safetensors'],
  text_encoders: ['t5xxl_fp8_e4m3fn_scaled.safetensors'],
  vae: ['ae.safetensors'],
}

function workflow(name: string): Record<string, { class_type: string; inputs: Record<string, unknown> }> {
  const file = fileURLToPath(new URL(`fixtures/workflows/${name}.api.json`, import.meta.url))
  return JSON.parse(readFileSync(file, 'utf8'))
}

function sd15(seed: number, batch = 1, steps = 3) {
  const graph = workflow('sd15-sdxl-t2i')
  Object.assign(graph['3'].inputs, { seed, steps })
  Object.assign(graph['5'].inputs, { width: 64, height: 64, batch_size: batch })
  return graph
}

class Client {
  readonly messages: Message[] = []
  private constructor(
    readonly ws: WebSocket,
    readonly id: string,
  ) {
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer
      this.messages.push(
        isBinary ? { type: 'binary', data: {}, frame: buf } : JSON.parse(buf.toString('utf8')),
      )
    })
  }

  static async open(fake: FakeComfyUI, id: string, featureFlags = false): Promise<Client> {
    const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/ws?clientId=${id}`)
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    if (featureFlags)
      ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }))
    return new Client(ws, id)
  }

  async until(pred: (m: Message) => boolean): Promise<Message> {
    const deadline = Date.now() + 10_000
    for (;;) {
      const found = this.messages.find(pred)
      if (found) return found
      if (Date.now() > deadline) throw new Error(`no such message among ${this.messages.map((m) => m.type)}`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  /** the message that ends a prompt: executing {node: null}, execution_error or execution_interrupted */
  finished(promptId: string): Promise<Message> {
    return this.until(
      (m) =>
        m.data.prompt_id === promptId &&
        (m.type === 'execution_error' ||
          m.type === 'execution_interrupted' ||
          (m.type === 'executing' && m.data.node === null)),
    )
  }
}

async function post(fake: FakeComfyUI, path: string, body: unknown): Promise<Response> {
  return fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

async function submit(fake: FakeComfyUI, prompt: unknown, clientId?: string): Promise<string> {
  const res = await post(fake, '/prompt', { prompt, client_id: clientId })
  const body = (await res.json()) as { prompt_id: string }
  expect(res.status, JSON.stringify(body)).toBe(200)
  return body.prompt_id
}

type History = Record<
  string,
  { outputs: Record<string, { images: Array<{ filename: string; subfolder: string; type: string }> }> } & {
    status: { status_str: string; messages: Array<[string, Record<string, unknown>]> }
  }
>

async function history(fake: FakeComfyUI, promptId: string): Promise<History> {
  return (await (await fetch(`${fake.url}/history/${promptId}`)).json()) as History
}

async function pixel(fake: FakeComfyUI, image: { filename: string; subfolder: string; type: string }) {
  const q = new URLSearchParams(image)
  const res = await fetch(`${fake.url}/view?${q}`)
  expect(res.headers.get('content-type')).toBe('image/png')
  const { data } = await sharp(Buffer.from(await res.arrayBuffer()))
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { r: data[0], g: data[1], b: data[2] }
}

describe('fake ComfyUI', () => {
  let fake: FakeComfyUI
  const clients: Client[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.close()
    await fake?.close()
  })

  it('saves one image per batch element, each telling its seed and place: a batch is not n seeds', async () => {
    fake = await startFakeComfyUI({ models: MODELS })
    const client = await Client.open(fake, 'batch')
    clients.push(client)
    const batch = await submit(fake, sd15(42, 2), client.id)
    await client.finished(batch)
    const images = (await history(fake, batch))[batch].outputs['9'].images
    expect(images.map((i) => i.filename)).toEqual(['ComfyUI_00001_.png', 'ComfyUI_00002_.png'])
    expect(await pixel(fake, images[0])).toEqual(fakeImageColor(42, 0))
    expect(await pixel(fake, images[1])).toEqual(fakeImageColor(42, 1))
    // as SaveImage does, the PNG carries the graph as a "prompt" text chunk (Python's json.dumps)
    const png = Buffer.from(
      await (await fetch(`${fake.url}/view?${new URLSearchParams(images[0])}`)).arrayBuffer(),
    )
    const { comments } = await sharp(png).metadata()
    const prompt = comments?.find((c) => c.keyword === 'prompt')?.text ?? ''
    expect(prompt).toContain('"class_type": "KSampler"')
    expect(JSON.parse(prompt)['3'].inputs.seed).toBe(42)

    const single = await submit(fake, sd15(43), client.id)
    await client.finished(single)
    const [image] = (await history(fake, single))[single].outputs['9'].images
    expect(await pixel(fake, image)).toEqual(fakeImageColor(43, 0))
    expect(fakeImageColor(43, 0)).not.toEqual(fakeImageColor(42, 1))
  })

  it("accepts ComfyUI's own Chroma templates and reports the steps of their sampler", async () => {
    fake = await startFakeComfyUI({ models: MODELS })
    const client = await Client.open(fake, 'chroma')
    clients.push(client)
    for (const name of ['chroma-t2i-ksampler', 'chroma-t2i-template-style']) {
      const graph = workflow(name)
      for (const node of Object.values(graph)) {
        if (node.class_type === 'EmptySD3LatentImage') Object.assign(node.inputs, { width: 64, height: 64 })
        if ('steps' in node.inputs) node.inputs.steps = 4
      }
      const id = await submit(fake, graph, client.id)
      await client.finished(id)
      const steps = client.messages.filter((m) => m.type === 'progress' && m.data.prompt_id === id)
      expect(steps.map((m) => m.data.value)).toEqual([1, 2, 3, 4])
      expect((await history(fake, id))[id].status.status_str).toBe('success')
    }
  })

  it('answers an unknown model with value_not_in_list naming the files it has', async () => {
    fake = await startFakeComfyUI({ models: MODELS })
    const graph = workflow('chroma-t2i-ksampler')
    graph['1'].inputs.unet_name = 'flux1-dev.safetensors'
    const res = await post(fake, '/prompt', { prompt: graph })
    expect(res.status).toBe(400)
    const body = (await res.json()) as {
      node_errors: Record<string, { errors: Array<Record<string, unknown>> }>
    }
    expect(body.node_errors['1'].errors[0]).toMatchObject({
      type: 'value_not_in_list',
      details: "unet_name: 'flux1-dev.safetensors' not in ['Chroma1-HD-fp8_scaled_rev2.safetensors']",
      extra_info: { input_name: 'unet_name', received_value: 'flux1-dev.safetensors' },
    })
  })

  it('fails the next executions with CUDA out of memory as torch reports it, then runs again', async () => {
    fake = await startFakeComfyUI({ models: MODELS })
    fake.faults.oomNext = 1
    const client = await Client.open(fake, 'oom')
    clients.push(client)
    const id = await submit(fake, sd15(1), client.id)
    const error = await client.finished(id)
    expect(error.type).toBe('execution_error')
    expect(error.data).toMatchObject({
      node_id: '3',
      node_type: 'KSampler',
      exception_type: 'torch.OutOfMemoryError',
      exception_message: expect.stringMatching(/^Allocation on device 0 would exceed allowed memory/),
    })
    expect((await history(fake, id))[id].status.status_str).toBe('error')
    const again = await submit(fake, sd15(2), client.id)
    expect((await client.finished(again)).type).toBe('executing')
  })

  it('forgets its queue and history on restart, closes sockets, and comes back on the same port', async () => {
    fake = await startFakeComfyUI({ models: MODELS })
    const client = await Client.open(fake, 'restart')
    const id = await submit(fake, sd15(5), client.id)
    await client.finished(id)
    const port = fake.port
    const closed = new Promise((resolve) => client.ws.once('close', resolve))
    await fake.stop()
    await closed
    await expect(fetch(`${fake.url}/queue`)).rejects.toThrow()
    await fake.start()
    expect(fake.port).toBe(port)
    expect(await history(fake, id)).toEqual({})
    await fake.restart()
    expect(fake.port).toBe(port)
    expect((await fetch(`${fake.url}/system_stats`)).status).toBe(200)
  })

  it('keeps a silent socket silent while the prompt still completes in /history', async () => {
    fake = await startFakeComfyUI({ models: MODELS })
    fake.faults.silentWebsocket = true
    const client = await Client.open(fake, 'silent')
    clients.push(client)
    const id = await submit(fake, sd15(9), client.id)
    const deadline = Date.now() + 10_000
    while (!(await history(fake, id))[id] && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10))
    expect((await history(fake, id))[id].status.status_str).toBe('success')
    expect(client.messages).toEqual([])
  })

  it('holds a hung prompt as running until it is interrupted', async () => {
    fake = await startFakeComfyUI({ models: MODELS })
    fake.faults.hangNext = true
    const client = await Client.open(fake, 'hang')
    clients.push(client)
    const id = await submit(fake, sd15(3), client.id)
    await client.until((m) => m.type === 'executing' && m.data.node === '3')
    const queue = (await (await fetch(`${fake.url}/queue`)).json()) as { queue_running: unknown[][] }
    expect(queue.queue_running.map((item) => item[1])).toEqual([id])
    await post(fake, '/interrupt', { prompt_id: id })
    expect((await client.finished(id)).type).toBe('execution_interrupted')
    expect(fake.interrupts).toBe(1)
  })

  it('sends previews as event 4 with metadata to a client that asked for it, event 1 otherwise', async () => {
    fake = await startFakeComfyUI({ models: MODELS, previews: true })
    const modern = await Client.open(fake, 'modern', true)
    const legacy = await Client.open(fake, 'legacy')
    clients.push(modern, legacy)
    await modern.until((m) => m.type === 'feature_flags')
    const a = await submit(fake, sd15(11), modern.id)
    await modern.finished(a)
    const b = await submit(fake, sd15(12), legacy.id)
    await legacy.finished(b)
    const frames = (c: Client) => c.messages.flatMap((m) => (m.frame ? [m.frame] : []))
    expect(frames(modern)).toHaveLength(3)
    const first = frames(modern)[0]
    expect(first.readUInt32BE(0)).toBe(4)
    const length = first.readUInt32BE(4)
    expect(JSON.parse(first.subarray(8, 8 + length).toString())).toMatchObject({ prompt_id: a, node_id: '3' })
    expect(first.subarray(8 + length, 10 + length).toString('hex')).toBe('ffd8')
    expect(frames(legacy).map((f) => [f.readUInt32BE(0), f.readUInt32BE(4)])).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ])
  })

  it("sends a prompt's messages only to its client's socket, status to every socket, and serves /api/… too", async () => {
    fake = await startFakeComfyUI({ models: MODELS })
    const owner = await Client.open(fake, 'owner')
    const other = await Client.open(fake, 'other')
    clients.push(owner, other)
    const id = await submit(fake, sd15(21), owner.id)
    await owner.finished(id)
    expect(owner.messages.some((m) => m.type === 'progress')).toBe(true)
    expect(other.messages.filter((m) => m.data.prompt_id === id)).toEqual([])
    expect(other.messages.filter((m) => m.type === 'status').length).toBeGreaterThan(1)
    const plain = await (await fetch(`${fake.url}/object_info/KSampler`)).json()
    expect(await (await fetch(`${fake.url}/api/object_info/KSampler`)).json()).toEqual(plain)
    expect(await (await fetch(`${fake.url}/api/history/${id}`)).json()).toEqual(await history(fake, id))
  })

  it("feeds cached nodes' outputs to the nodes that run again (a rerun with another seed still saves its image)", async () => {
    fake = await startFakeComfyUI({ models: MODELS })
    const client = await Client.open(fake, 'rerun')
    clients.push(client)
    const graph = workflow('chroma-t2i-ksampler')
    Object.assign(graph['7'].inputs, { width: 64, height: 64 })
    Object.assign(graph['8'].inputs, { steps: 2 })
    await client.finished(await submit(fake, graph, client.id))
    Object.assign(graph['8'].inputs, { seed: 77 })
    graph['11'].inputs.filename_prefix = 'pigment/job-124'
    const id = await submit(fake, graph, client.id)
    await client.finished(id)
    const cached = client.messages.find((m) => m.type === 'execution_cached' && m.data.prompt_id === id)
    expect(cached?.data.nodes).toEqual(['1', '2', '3', '4', '5', '6', '7', '9'])
    const images = (await history(fake, id))[id].outputs['11'].images
    expect(images).toHaveLength(1)
    expect(await pixel(fake, images[0])).toEqual(fakeImageColor(77, 0))

    // a fault on a run whose loaders are cached ends the prompt as well
    fake.faults.oomNext = 1
    Object.assign(graph['8'].inputs, { seed: 78 })
    const failed = await submit(fake, graph, client.id)
    expect((await client.finished(failed)).data.exception_type).toBe('torch.OutOfMemoryError')
  })

  it('uses up a fault on the execution it was meant for, even when a restart ends that one early', async () => {
    fake = await startFakeComfyUI({ models: MODELS })
    fake.faults.hangNext = true
    const first = await Client.open(fake, 'before')
    const hung = await submit(fake, sd15(31), first.id)
    await first.until((m) => m.type === 'execution_start' && m.data.prompt_id === hung)
    await fake.restart()
    const client = await Client.open(fake, 'after')
    clients.push(client)
    const id = await submit(fake, sd15(32), client.id)
    expect((await client.finished(id)).type).toBe('executing')
  })
})
