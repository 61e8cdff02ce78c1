// Reading the recording of the real ComfyUI 0.3.64 (tools/comfyui-real/record.py wrote it) and comparing what
// the fake answers with what the real one answered: the same JSON shapes (keys and value kinds, recursively),
// the same values where the protocol fixes them, ids and file names mapped from the recording's to the fake's.

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export type RecordedEvent =
  | { kind: 'scenario'; name: string }
  | {
      kind: 'http'
      method: string
      path: string
      request?: unknown
      status: number
      content_type?: string
      response?: unknown
      response_text?: string | null
      response_len?: number
      response_head_hex?: string
    }
  | { kind: 'ws'; client: string; message: { type: string; data: Record<string, unknown> } }
  | { kind: 'ws-binary'; client: string; event: number; image_type: number; length: number }
  | { kind: 'preview-saved' | 'timeout' | 'scenario-error'; [key: string]: unknown }

export type HttpEvent = Extract<RecordedEvent, { kind: 'http' }>

export function loadTranscript(): RecordedEvent[] {
  const file = fileURLToPath(new URL('fixtures/comfyui-0.3.64-transcript.json', import.meta.url))
  return JSON.parse(readFileSync(file, 'utf8')) as RecordedEvent[]
}

/** One websocket frame as the comparison sees it. */
export type Frame = { type: string; data: Record<string, unknown> } | { type: 'binary'; event: number }

export function frameOf(e: RecordedEvent): Frame | undefined {
  if (e.kind === 'ws') return e.message
  if (e.kind === 'ws-binary') return { type: 'binary', event: e.event }
  return undefined
}

/** Recorded ids and file names -> the fake's, learnt as answers come in. */
export class IdMap {
  private readonly map = new Map<string, string>()

  learn(recorded: string, actual: string): void {
    if (!this.map.has(recorded)) this.map.set(recorded, actual)
  }

  get(recorded: string): string {
    return this.map.get(recorded) ?? recorded
  }

  /** the recorded id whose counterpart is `actual` */
  back(actual: string): string {
    for (const [recorded, mapped] of this.map) if (mapped === actual) return recorded
    return actual
  }

  private replace(text: string, encode: (s: string) => string): string {
    const keys = [...this.map.keys()].filter((k) => k !== this.map.get(k))
    if (keys.length === 0) return text
    const pattern = new RegExp(
      keys
        .sort((a, b) => b.length - a.length)
        .map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    )
    return text.replace(pattern, (m) => encode(this.map.get(m)!))
  }

  /** rewrites every recorded id in a JSON request body to the fake's */
  rewrite<T>(value: T): T {
    return JSON.parse(this.replace(JSON.stringify(value), (s) => s)) as T
  }

  /** rewrites every recorded id in a request path to the fake's */
  rewritePath(path: string): string {
    return this.replace(path, encodeURIComponent)
  }
}

/** keys whose values identify something the fake makes up: learnt, then mapped */
const ID_KEYS = new Set(['prompt_id', 'filename', 'sid'])
/** keys whose values the protocol fixes: they must be equal, not only of the same kind */
const VALUE_KEYS = new Set([
  'type',
  'message',
  'details',
  'status_str',
  'completed',
  'state',
  'node',
  'display_node',
  'node_id',
  'node_type',
  'class_type',
  'input_name',
  'received_value',
  'dependent_outputs',
  'queue_remaining',
  'value',
  'max',
  'output_node',
  'subfolder',
  'number',
  'name',
  'comfyui_version',
])
/** arrays whose order the real ComfyUI does not fix (Python sets) */
const UNORDERED_KEYS = new Set(['executed', 'nodes', 'dependent_outputs'])
/** arrays whose length depends on the machine, not on the protocol */
const ANY_LENGTH_KEYS = new Set(['argv', 'traceback'])

function kind(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

const show = (v: unknown) => JSON.stringify(v)?.slice(0, 200)

/**
 * Where `actual` differs from `recorded`: a missing or extra key, another kind of value, another array length,
 * or another value under a key the protocol fixes. Empty when they agree.
 */
export function compareBodies(
  recorded: unknown,
  actual: unknown,
  ids: IdMap,
  path = '$',
  key = '',
): string[] {
  const out: string[] = []
  const kr = kind(recorded)
  const ka = kind(actual)
  if (kr !== ka) return [`${path}: recorded a ${kr} (${show(recorded)}), got a ${ka} (${show(actual)})`]
  if (kr === 'object') {
    const rec = recorded as Record<string, unknown>
    const act = actual as Record<string, unknown>
    const expected = new Map(Object.keys(rec).map((k) => [ids.get(k), k]))
    for (const [mapped, k] of expected) {
      if (!Object.hasOwn(act, mapped)) out.push(`${path}: key "${k}" missing`)
      else out.push(...compareBodies(rec[k], act[mapped], ids, `${path}.${k}`, k))
    }
    for (const k of Object.keys(act)) if (!expected.has(k)) out.push(`${path}: unexpected key "${k}"`)
    return out
  }
  if (kr === 'array') {
    let rec = recorded as unknown[]
    let act = actual as unknown[]
    if (rec.length !== act.length && !ANY_LENGTH_KEYS.has(key)) {
      out.push(`${path}: recorded ${rec.length} items, got ${act.length}`)
    }
    if (UNORDERED_KEYS.has(key)) {
      rec = [...rec].map((v) => (typeof v === 'string' ? ids.get(v) : v)).sort()
      act = [...act].sort()
    }
    for (let i = 0; i < Math.min(rec.length, act.length); i++) {
      // elements of a value-fixed list are fixed too (e.g. dependent_outputs)
      out.push(...compareBodies(rec[i], act[i], ids, `${path}[${i}]`, VALUE_KEYS.has(key) ? key : ''))
    }
    return out
  }
  if (ID_KEYS.has(key) && typeof recorded === 'string' && typeof actual === 'string') {
    ids.learn(recorded, actual)
    if (ids.get(recorded) !== actual)
      out.push(`${path}: recorded ${recorded} (here ${ids.get(recorded)}), got ${actual}`)
    return out
  }
  if (VALUE_KEYS.has(key)) {
    const expected = typeof recorded === 'string' ? ids.get(recorded) : recorded
    if (expected !== actual) out.push(`${path}: recorded ${show(recorded)}, got ${show(actual)}`)
  }
  return out
}

/**
 * A websocket frame as a token of its prompt's message sequence: the type, plus what fixes its place (the node
 * of executing/executed, the step of progress, the node states of progress_state, the event of a binary frame).
 */
export function token(frame: Frame): string {
  if (frame.type === 'binary') return `binary:${(frame as { event: number }).event}`
  const data = (frame as { data: Record<string, unknown> }).data
  switch (frame.type) {
    case 'executing':
    case 'executed':
      return `${frame.type}:${data.node}`
    case 'progress':
      return `progress:${data.value}/${data.max}`
    case 'progress_state': {
      const nodes = data.nodes as Record<string, { state: string }>
      const states = Object.entries(nodes).map(([id, n]) => `${id}=${n.state}`)
      return `progress_state:${states.sort().join(',')}`
    }
    case 'execution_cached':
      return `execution_cached:${[...(data.nodes as string[])].sort().join(',')}`
    default:
      return frame.type
  }
}

/** Frames grouped by prompt id; a binary frame belongs to the prompt of the text frame before it. */
export function sequencesByPrompt(
  frames: Frame[],
  toRecorded: (id: string) => string,
): Map<string, string[]> {
  const out = new Map<string, string[]>()
  let current: string | undefined
  for (const f of frames) {
    if (f.type !== 'binary') {
      const id = (f as { data: Record<string, unknown> }).data?.prompt_id
      if (typeof id !== 'string') continue
      current = toRecorded(id)
    }
    if (current === undefined) continue
    if (!out.has(current)) out.set(current, [])
    out.get(current)!.push(token(f))
  }
  return out
}
