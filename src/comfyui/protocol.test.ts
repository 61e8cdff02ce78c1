// ComfyUI's wire shapes, read from the recording of the real ComfyUI 0.3.64 (../shared/fixtures/comfyui).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { rejectionError } from './comfy-errors.js'
import {
  parseBinaryFrame,
  parseHistory,
  parseModelFiles,
  parseRejection,
  parseTextFrame,
  queuedPromptIds,
} from './protocol.js'

// the repository's copies of ../shared/fixtures/comfyui (CI clones the project alone)
const FIXTURES = new URL('../../test/comfyui/fixtures/', import.meta.url)
const PREVIEW_FRAME = new URL('../../test/support/fake-comfyui/preview-frame.bin', import.meta.url)
type Entry = {
  kind: string
  method?: string
  path?: string
  status?: number
  request?: unknown
  response?: unknown
  message?: { type: string; data: unknown }
}
const transcript = JSON.parse(
  readFileSync(new URL('comfyui-0.3.64-transcript.json', FIXTURES), 'utf8'),
) as Entry[]

const http = (method: string, path: string | RegExp, status?: number) =>
  transcript.filter(
    (e) =>
      e.kind === 'http' &&
      e.method === method &&
      (typeof path === 'string' ? e.path === path : path.test(e.path ?? '')) &&
      (status === undefined || e.status === status),
  )

describe('ComfyUI protocol', () => {
  it('reads a rejected checkpoint as a 400 naming the input and listing what ComfyUI has', () => {
    const rejected = http('POST', '/prompt', 400).find((e) =>
      JSON.stringify(e.response).includes('value_not_in_list'),
    )
    const rejection = parseRejection(rejected?.response)
    expect(rejection.nodeErrors[0]).toMatchObject({
      nodeId: '4',
      classType: 'CheckpointLoaderSimple',
      inputName: 'ckpt_name',
    })
    const error = rejectionError(rejection)
    expect(error).toMatchObject({
      code: 'REQUEST_INVALID_PARAM',
      httpStatus: 400,
      field: 'node 4 (CheckpointLoaderSimple).ckpt_name',
    })
    expect(error.message).toContain("not in ['pigment-random-sd15.safetensors']")
    // a filled input is named by the request field it came from
    expect(rejectionError(rejection, new Map([['4.ckpt_name', 'model']])).field).toBe('model')
  })

  it('reads a rejection without node errors (unknown node class)', () => {
    const unknown = http('POST', '/prompt', 400).find((e) =>
      JSON.stringify(e.response).includes('NoSuchNode'),
    )
    const error = rejectionError(parseRejection(unknown?.response))
    expect(error.message).toContain('NoSuchNode does not exist')
  })

  it('reads the outcome of a prompt from /history: images on success, the interruption on error, unknown when forgotten', () => {
    const histories = http('GET', /^\/history\/[^?]+$/)
    const outcomes = histories.map((e) =>
      parseHistory(e.response, decodeURIComponent(e.path?.slice(9) ?? '')),
    )
    const success = outcomes.find(
      (o) => o.state === 'success' && o.images.some((i) => i.filename.startsWith('sd15')),
    )
    expect(success).toEqual({
      state: 'success',
      images: [{ filename: 'sd15_00001_.png', subfolder: 'pigment', type: 'output' }],
    })
    expect(outcomes.some((o) => o.state === 'error' && o.event?.kind === 'interrupted')).toBe(true)
    expect(outcomes.filter((o) => o.state === 'unknown').length).toBeGreaterThan(0)
  })

  it('reads the websocket messages the backend acts on', () => {
    const events = transcript
      .filter((e) => e.kind === 'ws')
      .map((e) => parseTextFrame(JSON.stringify(e.message)))
    const kinds = new Set(events.map((e) => e?.kind).filter(Boolean))
    expect(kinds).toEqual(new Set(['executing', 'progress', 'success', 'interrupted']))
    expect(events.find((e) => e?.kind === 'progress')).toMatchObject({ value: 1, max: 4 })
    expect(events.some((e) => e?.kind === 'executing' && e.node === null)).toBe(true)
    expect(parseTextFrame('not json')).toBeUndefined()
  })

  it('reads a recorded binary preview frame (event 1, JPEG)', () => {
    const frame = new Uint8Array(readFileSync(PREVIEW_FRAME))
    const event = parseBinaryFrame(frame)
    expect(event).toMatchObject({ kind: 'preview', mime: 'image/jpeg' })
    expect(event?.kind === 'preview' && [...event.bytes.subarray(0, 2)]).toEqual([0xff, 0xd8])
  })

  it('reads the model files and the queue', () => {
    const info = Object.assign({}, ...http('GET', /^\/object_info\//).map((e) => e.response))
    expect(parseModelFiles(info).checkpoints).toEqual(['pigment-random-sd15.safetensors'])
    const sizes = http('GET', '/queue').map((e) => queuedPromptIds(e.response).size)
    // empty, then one running and one waiting, then the waiting one deleted
    expect(sizes).toEqual([0, 2, 1])
  })
})
