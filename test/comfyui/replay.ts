// Replays the recording's requests against a fake ComfyUI in the recorded order, waiting where the recorder
// waited (for the last websocket message it saw before each request), and collects every difference.

import WebSocket from 'ws'
import type { FakeComfyUI, GatePoint } from '../support/fake-comfyui/index.js'
import {
  compareBodies,
  type Frame,
  frameOf,
  type HttpEvent,
  IdMap,
  type RecordedEvent,
  sequencesByPrompt,
} from './transcript.js'

// record.py's upload: a 1×1 PNG sent as multipart `image`, with overwrite=true
const UPLOAD_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
)
const WAIT_MS = 10_000

export interface ReplayReport {
  /** every difference, as `<request or prompt>: <what>` */
  mismatches: string[]
  requests: number
  prompts: number
}

type Hold = { kind: 'node'; nodeId: string } | { kind: 'step'; value: number }

/**
 * Where the recorder interrupted a running prompt, the fake is held at the point the real one had reached (the
 * node it was executing, or the sampler step it had reported), until the interrupt has been answered: the
 * timing the recording happened to have becomes the only possible one.
 */
function interruptHolds(events: RecordedEvent[]): Map<string, Hold> {
  const holds = new Map<string, Hold>()
  events.forEach((e, i) => {
    if (e.kind !== 'http' || e.path !== '/interrupt') return
    const pid = (e.request as { prompt_id?: string } | null)?.prompt_id
    if (!pid) return
    const interrupted = events
      .slice(i)
      .some(
        (f) =>
          f.kind === 'ws' && f.message.type === 'execution_interrupted' && f.message.data.prompt_id === pid,
      )
    if (!interrupted) return
    const before = events
      .slice(0, i)
      .filter(
        (f): f is Extract<RecordedEvent, { kind: 'ws' }> =>
          f.kind === 'ws' && f.message.data.prompt_id === pid,
      )
      .at(-1)?.message
    if (before?.type === 'executing') holds.set(pid, { kind: 'node', nodeId: String(before.data.node) })
    if (before?.type === 'progress') holds.set(pid, { kind: 'step', value: Number(before.data.value) })
  })
  return holds
}

function sameMilestone(recorded: Frame, actual: Frame, ids: IdMap): boolean {
  if (recorded.type === 'binary' || actual.type !== recorded.type) return false
  const r = (recorded as { data: Record<string, unknown> }).data
  const a = (actual as { data: Record<string, unknown> }).data
  if (recorded.type === 'status') {
    const remaining = (d: Record<string, unknown>) =>
      (d.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining
    return remaining(r) === remaining(a)
  }
  if (typeof r.prompt_id === 'string' && ids.get(r.prompt_id) !== a.prompt_id) return false
  if ('node' in r && r.node !== a.node) return false
  if ('value' in r && r.value !== a.value) return false
  return true
}

function statusToken(f: Frame): string | undefined {
  if (f.type !== 'status') return undefined
  const data = (f as { data: Record<string, unknown> }).data as {
    status: { exec_info: { queue_remaining: number } }
    sid?: string
  }
  return `${data.status.exec_info.queue_remaining}${data.sid ? '+sid' : ''}`
}

function has(body: unknown, key: string): boolean {
  return body !== null && typeof body === 'object' && key in body
}

function label(e: HttpEvent): string {
  return `${e.method} ${e.path}`
}

async function send(fake: FakeComfyUI, e: HttpEvent, ids: IdMap): Promise<Response> {
  if (e.path === '/prompt (not json)') {
    return fetch(`${fake.url}/prompt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'not json',
    })
  }
  if (e.path === '/upload/image') {
    const form = new FormData()
    form.append('image', new Blob([UPLOAD_PNG], { type: 'image/png' }), 'pigment-upload.png')
    form.append('overwrite', 'true')
    return fetch(`${fake.url}/upload/image`, { method: 'POST', body: form })
  }
  const hasBody = e.request !== null && e.request !== undefined
  return fetch(`${fake.url}${ids.rewritePath(e.path)}`, {
    method: e.method,
    headers: hasBody ? { 'content-type': 'application/json' } : {},
    body: hasBody ? JSON.stringify(ids.rewrite(e.request)) : undefined,
  })
}

async function checkResponse(e: HttpEvent, res: Response, ids: IdMap): Promise<string[]> {
  const out: string[] = []
  const body = Buffer.from(await res.arrayBuffer())
  if (res.status !== e.status) out.push(`status ${res.status}, recorded ${e.status}`)
  const type = res.headers.get('content-type') ?? ''
  if (typeof e.content_type === 'string' && type !== e.content_type) {
    out.push(`content-type "${type}", recorded "${e.content_type}"`)
  }
  if (e.response !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(body.toString('utf8'))
    } catch {
      return [...out, `body is not JSON: ${body.toString('utf8').slice(0, 120)}`]
    }
    out.push(...compareBodies(e.response, parsed, ids))
  } else if (typeof e.response_text === 'string' && e.response_len === undefined) {
    if (body.toString('utf8') !== e.response_text) out.push(`body ${JSON.stringify(body.toString('utf8'))}`)
  } else if (e.response_len !== undefined) {
    if (e.response_len === 0 && body.length !== 0) out.push(`body of ${body.length} bytes, recorded none`)
    const head = e.response_head_hex ?? ''
    if (body.subarray(0, head.length / 2).toString('hex') !== head) {
      out.push(`body starts ${body.subarray(0, 16).toString('hex')}, recorded ${head}`)
    }
  }
  return out
}

export async function replayTranscript(events: RecordedEvent[], fake: FakeComfyUI): Promise<ReplayReport> {
  const ids = new IdMap()
  const mismatches: string[] = []
  const clientId = events.find((e) => e.kind === 'ws')?.client
  if (!clientId) throw new Error('the recording has no websocket client')

  const holds = interruptHolds(events)
  const released = new Map<string, () => void>()
  const waiting = new Map<string, Promise<void>>()
  for (const pid of holds.keys()) waiting.set(pid, new Promise<void>((resolve) => released.set(pid, resolve)))
  // the fake's n-th POSTed prompt is the recording's n-th: known the moment the fake has it, before the
  // client reads the answer (a prompt may reach its held node first)
  const recordedPosts = events.flatMap((e) =>
    e.kind === 'http' && e.path === '/prompt' && e.method === 'POST' && has(e.request, 'prompt')
      ? [(e.response as { prompt_id?: string } | undefined)?.prompt_id ?? '']
      : [],
  )
  const recordedIdOf = (actual: string) => recordedPosts[fake.prompts.findIndex((p) => p.promptId === actual)]
  fake.gate = async (point: GatePoint) => {
    const pid = recordedIdOf(point.promptId) ?? ''
    const hold = holds.get(pid)
    if (!hold || hold.kind !== point.kind) return
    if (hold.kind === 'node' ? hold.nodeId === point.nodeId : hold.value === point.value)
      await waiting.get(pid)
  }

  const frames: Frame[] = []
  const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/ws?clientId=${clientId}`)
  ws.on('message', (data, isBinary) => {
    const buf = data as Buffer
    frames.push(isBinary ? { type: 'binary', event: buf.readUInt32BE(0) } : JSON.parse(buf.toString('utf8')))
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })

  let cursor = 0
  let seen: Frame[] = []
  let requests = 0
  const recordedStatuses: string[][] = []
  const actualStarts: number[] = []

  // the recorder went on once it had seen its last message before the next request: wait for that one
  const catchUp = async (what: string) => {
    const milestone = seen.filter((f) => f.type !== 'binary').at(-1)
    seen = []
    if (!milestone) return
    // a prompt's executing/progress/execution_* message happens once: it counts even when it came before the
    // last request went out (the fake can be quicker than the client); a status counts only after it
    const unique = milestone.type !== 'status' && milestone.type !== 'progress_state'
    const from = unique ? 0 : cursor
    const deadline = Date.now() + WAIT_MS
    while (!frames.slice(from).some((f) => sameMilestone(milestone, f, ids))) {
      if (Date.now() > deadline) {
        const last = frames.slice(-4).map((f) => JSON.stringify(f).slice(0, 400))
        throw new Error(
          `${what}: the fake never sent ${JSON.stringify(milestone).slice(0, 200)}; last:\n${last.join('\n')}`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }

  try {
    for (const e of events) {
      const frame = frameOf(e)
      if (frame) {
        seen.push(frame)
        const status = statusToken(frame)
        if (status) recordedStatuses.at(-1)?.push(status)
        continue
      }
      if (e.kind === 'scenario') {
        await catchUp(`scenario "${e.name}"`)
        recordedStatuses.push([])
        // the socket opened before the first scenario began: what it got on connecting belongs to that one
        actualStarts.push(actualStarts.length === 0 ? 0 : frames.length)
        continue
      }
      if (e.kind !== 'http') continue
      await catchUp(label(e))
      cursor = frames.length
      requests += 1
      const res = await send(fake, e, ids)
      for (const m of await checkResponse(e, res, ids)) mismatches.push(`${label(e)}: ${m}`)
      if (e.method === 'POST' && e.path === '/prompt' && res.status === 200) {
        // the recorded prompt id is now known to be this one, even when the body check failed
        const actual = fake.prompts.at(-1)?.promptId
        if (actual && recordedIdOf(actual)) ids.learn(recordedIdOf(actual), actual)
      }
      const interrupted = (e.request as { prompt_id?: string } | null)?.prompt_id
      if (e.path === '/interrupt' && interrupted) released.get(interrupted)?.()
    }
    await catchUp('the end')
  } finally {
    for (const release of released.values()) release()
    ws.close()
  }

  // the status broadcasts of each scenario, in order
  actualStarts.push(frames.length)
  recordedStatuses.forEach((recorded, i) => {
    const actual = frames
      .slice(actualStarts[i], actualStarts[i + 1])
      .map(statusToken)
      .filter((t) => t !== undefined)
    if (recorded.join(' ') !== actual.join(' ')) {
      mismatches.push(`scenario ${i + 1} status queue_remaining: got [${actual}], recorded [${recorded}]`)
    }
  })

  // each prompt's messages: the same sequence, and each message with the same data shape
  const recordedFrames = events.map(frameOf).filter((f) => f !== undefined)
  const recordedSeqs = sequencesByPrompt(recordedFrames, (id) => id)
  const actualSeqs = sequencesByPrompt(frames, (id) => ids.back(id))
  for (const [pid, recorded] of recordedSeqs) {
    const actual = actualSeqs.get(pid) ?? []
    if (recorded.join('\n') !== actual.join('\n')) {
      mismatches.push(
        `prompt ${pid} messages:\n  got      ${actual.join(' ')}\n  recorded ${recorded.join(' ')}`,
      )
      continue
    }
    const byPrompt = (list: Frame[], toRecorded: (id: string) => string) =>
      list.filter(
        (f) =>
          f.type !== 'binary' &&
          toRecorded(String((f as { data: Record<string, unknown> }).data?.prompt_id)) === pid,
      ) as Array<{ type: string; data: Record<string, unknown> }>
    const rec = byPrompt(recordedFrames, (id) => id)
    const act = byPrompt(frames, (id) => ids.back(id))
    rec.forEach((f, i) => {
      for (const m of compareBodies(f.data, act[i]?.data, ids))
        mismatches.push(`prompt ${pid} ${f.type}: ${m}`)
    })
  }
  for (const pid of actualSeqs.keys()) {
    if (!recordedSeqs.has(pid)) mismatches.push(`prompt ${pid}: messages the recording does not have`)
  }
  const first = frames[0]
  const recordedFirst = recordedFrames[0]
  if (recordedFirst.type === 'status') {
    const data = (f: Frame) => (f as { data: Record<string, unknown> }).data
    for (const m of compareBodies(data(recordedFirst), data(first), ids))
      mismatches.push(`first status: ${m}`)
  }
  return { mismatches, requests, prompts: recordedSeqs.size }
}
