// The fake ComfyUI the backend's tests run against is held to the real ComfyUI 0.3.64: every request of the
// recording (success, cached rerun, chosen prompt id, no client id, validation errors, queue delete,
// interrupts, previews, upload, history list, free) is replayed against it, and its statuses, body shapes and
// per-prompt websocket message sequences must be the recorded ones.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeComfyUI, startFakeComfyUI } from '../support/fake-comfyui/index.js'
import { replayTranscript } from './replay.js'
import {
  compareBodies,
  type HttpEvent,
  IdMap,
  loadTranscript,
  type RecordedEvent,
  token,
} from './transcript.js'

const events = loadTranscript()
const http = (path: string, status?: number) =>
  events.find(
    (e): e is HttpEvent => e.kind === 'http' && e.path.startsWith(path) && (!status || e.status === status),
  )!

describe('the fake ComfyUI replays the recording of ComfyUI 0.3.64', () => {
  let fake: FakeComfyUI

  beforeAll(async () => {
    // the recording's ComfyUI had one checkpoint and ran with --preview-method latent2rgb
    fake = await startFakeComfyUI({
      models: { checkpoints: ['pigment-random-sd15.safetensors'] },
      previews: true,
      stepDelayMs: 1,
    })
  })
  afterAll(() => fake.close())

  it('answers every request and sends every message as the real one did', async () => {
    const report = await replayTranscript(events, fake)
    expect(report.mismatches).toEqual([])
    // all of it was replayed: every HTTP exchange, every prompt that got messages
    expect(report.requests).toBe(events.filter((e) => e.kind === 'http').length)
    expect(report.prompts).toBe(7)
  })
})

describe('the comparison can fail', () => {
  it('catches a fake that strays from the recording (here: no previews)', async () => {
    const stray = await startFakeComfyUI({
      models: { checkpoints: ['pigment-random-sd15.safetensors'] },
      previews: false,
      stepDelayMs: 1,
    })
    try {
      const { mismatches } = await replayTranscript(events, stray)
      expect(mismatches.map((m) => m.split('\n')[0])).toEqual([
        'prompt 2b18a52f-610d-4b04-b657-79dc347f608f messages:',
        'prompt 7d42699f-c16e-4eeb-b52d-90b6c2aa5abb messages:',
      ])
    } finally {
      await stray.close()
    }
  })

  it('reports a body of another shape, naming where', () => {
    const recorded = http('/history/a7f3').response as Record<string, Record<string, unknown>>
    const broken = structuredClone(recorded)
    const entry = Object.values(broken)[0]
    delete (entry.status as Record<string, unknown>).messages
    entry.meta = []
    entry.extra = 1
    const mismatches = compareBodies(recorded, broken, new IdMap())
    expect(mismatches).toEqual([
      '$.a7f3ac4a-4eac-4a42-9d14-68ec3f82fe11.status: key "messages" missing',
      '$.a7f3ac4a-4eac-4a42-9d14-68ec3f82fe11.meta: recorded a object ({"2":{"node_id":"2","display_node":"2","parent_node":null,"real_node_id":"2"}}), got a array ([])',
      '$.a7f3ac4a-4eac-4a42-9d14-68ec3f82fe11: unexpected key "extra"',
    ])
  })

  it('reports a value the protocol fixes (an error type, a list of choices), not only a shape', () => {
    const recorded = http('/prompt', 400).response as { error: { type: string } }
    const wrongType = structuredClone(recorded)
    wrongType.error.type = 'invalid_prompt'
    expect(compareBodies(recorded, wrongType, new IdMap())).toEqual([
      '$.error.type: recorded "prompt_outputs_failed_validation", got "invalid_prompt"',
    ])
    const info = http('/object_info/KSampler').response as {
      KSampler: { input: { required: { scheduler: [string[]] } } }
    }
    const fewer = structuredClone(info)
    fewer.KSampler.input.required.scheduler[0].pop()
    expect(compareBodies(info, fewer, new IdMap()).length).toBeGreaterThan(0)
  })

  it('tells message sequences apart by node and step', () => {
    const ws = events.filter((e): e is Extract<RecordedEvent, { kind: 'ws' }> => e.kind === 'ws')
    const tokens = ws.map((e) => token(e.message))
    expect(tokens).toContain('executing:2')
    expect(tokens).toContain('progress:4/30')
    expect(tokens).toContain('execution_cached:1,2')
    expect(new Set(tokens).size).toBeGreaterThan(20)
  })
})
