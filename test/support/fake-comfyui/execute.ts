// Runs one queued prompt as ComfyUI 0.3.64's PromptExecutor does (execution.py, comfy_execution/graph.py and
// progress.py): the output cache of the previous prompt, the same node order, the same websocket messages in
// the same order to the same sockets, interrupts checked where ComfyUI checks them, and the history entry.

import path from 'node:path'
import type { NodeClass } from './catalogue.js'
import { colorFromInt, encodePng, type Folders, type Frame, fakeImageColor, imageSize } from './images.js'
import { PyError } from './python.js'
import type { Graph } from './validate.js'

export type QueueItem = [number, string, Graph, Record<string, unknown>, string[]]

export interface GatePoint {
  /** 'node': a node is running (its `executing` was sent); 'step': a sampler step's messages were sent */
  kind: 'node' | 'step'
  promptId: string
  nodeId: string
  classType: string
  value?: number
  max?: number
}

export interface Faults {
  /** accept websocket connections but never send anything on them */
  silentWebsocket: boolean
  /** the next N executions fail at their sampler with torch's CUDA out-of-memory error */
  oomNext: number
  /** the next execution fails at its sampler with this exception */
  failNext?: { type: string; message: string }
  /** the next execution stops at its first sampler step and stays there until interrupted */
  hangNext?: boolean
}

/** What one prompt's execution needs from the running "process". */
export interface ExecEnv {
  catalogue: Record<string, NodeClass>
  folders: Folders
  cache: OutputCache
  faults: Faults
  previews: boolean
  stepDelayMs: number
  gate?: (point: GatePoint) => void | Promise<void>
  /** text message; sid null = every socket */
  send(event: string, data: Record<string, unknown>, sid: string | null): void
  /** binary frame, built per receiving socket (its feature flags choose event 1 or 4) */
  sendPreview(sid: string | null, metadata: Record<string, unknown>): void
  isInterrupted(): boolean
  clearInterrupt(): void
  /** resolves when an interrupt arrives or the process dies */
  waitForInterrupt(): Promise<void>
  alive(): boolean
  setLastNode(node: string | null): void
}

export interface HistoryEntry {
  prompt: QueueItem
  outputs: Record<string, unknown>
  status: { status_str: 'success' | 'error'; completed: boolean; messages: Array<[string, unknown]> }
  meta: Record<string, unknown>
}

interface Cached {
  outputs: unknown[]
  ui?: { images: Array<{ filename: string; subfolder: string; type: string }> }
}

/** ComfyUI's classic output cache: keyed by each node's input signature, pruned to the current prompt. */
export class OutputCache {
  private entries = new Map<string, Cached>()

  get(signature: string): Cached | undefined {
    return this.entries.get(signature)
  }

  set(signature: string, value: Cached): void {
    this.entries.set(signature, value)
  }

  keepOnly(signatures: Set<string>): void {
    for (const key of this.entries.keys()) if (!signatures.has(key)) this.entries.delete(key)
  }

  clear(): void {
    this.entries.clear()
  }
}

class Interrupted extends Error {}
/** the process died (stop/restart) while the prompt ran */
export class Abandoned extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const isLink = (v: unknown): v is [string, number] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number'

const SAMPLERS = new Set(['KSampler', 'KSamplerAdvanced', 'SamplerCustomAdvanced'])

const OOM_MESSAGE =
  'Allocation on device 0 would exceed allowed memory. (out of memory)\nCurrently allocated     : 131.20 GiB\n' +
  'Requested               : 9.00 GiB\nDevice limit            : 139.72 GiB\nFree (according to CUDA): 512.00 MiB\n' +
  'PyTorch limit (set by user-supplied memory fraction)\n                        : 17179869184.00 GiB'
const OOM_TIPS =
  'This error means you ran out of memory on your GPU.\n\nTIPS: If the workflow worked before you might have accidentally set the batch_size to a large number.'

function signatures(
  graph: Graph,
  catalogue: Record<string, NodeClass>,
  folders: Folders,
): Map<string, string> {
  const out = new Map<string, string>()
  const visit = (id: string, stack: Set<string>): string => {
    const known = out.get(id)
    if (known) return known
    const node = graph[id]
    if (!node || stack.has(id)) return `missing:${id}`
    stack.add(id)
    const inputs = Object.keys(node.inputs ?? {})
      .sort()
      .map((name) => {
        const v = node.inputs[name]
        return [name, isLink(v) ? ['link', visit(v[0], stack), v[1]] : v]
      })
    // LoadImage's IS_CHANGED hashes the file: a re-uploaded file under the same name runs again
    const changed =
      node.class_type === 'LoadImage' && catalogue.LoadImage
        ? (folders.get('input', '', String(node.inputs.image))?.toString('base64').slice(0, 64) ?? '')
        : ''
    const sig = JSON.stringify([node.class_type, changed, inputs])
    stack.delete(id)
    out.set(id, sig)
    return sig
  }
  for (const id of Object.keys(graph)) visit(id, new Set())
  return out
}

/** comfy_execution.graph.ExecutionList: which node runs next. */
class ExecutionList {
  private readonly pending = new Map<string, number>() // node -> how many pending nodes block it
  private readonly blocking = new Map<string, Set<string>>()

  constructor(
    private readonly graph: Graph,
    private readonly catalogue: Record<string, NodeClass>,
    private readonly isCached: (id: string) => boolean,
  ) {}

  addNode(start: string): void {
    const stack = [start]
    const links: Array<[string, string]> = []
    while (stack.length > 0) {
      const id = stack.pop()!
      if (this.pending.has(id)) continue
      this.pending.set(id, 0)
      this.blocking.set(id, new Set())
      for (const value of Object.values(this.graph[id].inputs)) {
        if (isLink(value) && !this.isCached(value[0])) {
          stack.push(value[0])
          links.push([value[0], id])
        }
      }
    }
    for (const [from, to] of links) {
      if (this.isCached(from)) continue
      const blocked = this.blocking.get(from)!
      if (!blocked.has(to)) {
        blocked.add(to)
        this.pending.set(to, (this.pending.get(to) ?? 0) + 1)
      }
    }
  }

  isEmpty(): boolean {
    return this.pending.size === 0
  }

  private isOutput(id: string): boolean {
    return this.catalogue[this.graph[id].class_type]?.outputNode === true
  }

  /** ux_friendly_pick_node: outputs first, then what feeds an output, then what feeds that */
  next(): string {
    const ready = [...this.pending].filter(([, count]) => count === 0).map(([id]) => id)
    if (ready.length === 0) throw new PyError('graph.DependencyCycleError', 'Dependency cycle detected')
    const blocks = (id: string) => [...(this.blocking.get(id) ?? [])]
    return (
      ready.find((id) => this.isOutput(id)) ??
      ready.find((id) => blocks(id).some((b) => this.isOutput(b))) ??
      ready.find((id) => blocks(id).some((b) => blocks(b).some((c) => this.isOutput(c)))) ??
      ready[0]
    )
  }

  complete(id: string): void {
    this.pending.delete(id)
    for (const blocked of this.blocking.get(id) ?? []) {
      this.pending.set(blocked, (this.pending.get(blocked) ?? 1) - 1)
    }
  }
}

interface Latent {
  kind: 'latent'
  width: number
  height: number
  batch: number
  seed?: number
}

interface ImageBatch {
  kind: 'image'
  frames: Frame[]
}

const objectRepr = (type: string) =>
  `<${type} object at 0x7f${Math.floor(Math.random() * 0xfffffff).toString(16)}>`

/** ComfyUI's format_value over input_data_all: primitives as they are, everything else as str(). */
function currentInputs(inputs: Record<string, unknown>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {}
  for (const [name, v] of Object.entries(inputs)) {
    if (v === null || ['number', 'string', 'boolean'].includes(typeof v)) out[name] = [v]
    else out[name] = [objectRepr((v as { kind?: string }).kind ?? 'object')]
  }
  return out
}

export class PromptRun {
  private readonly statusMessages: Array<[string, Record<string, unknown>]> = []
  private readonly progress = new Map<string, { state: string; value: number; max: number }>()
  private readonly executed = new Set<string>()
  private readonly values = new Map<string, unknown[]>()
  private readonly sid: string | null
  private readonly promptId: string
  private readonly graph: Graph
  private readonly ui = new Map<string, Cached['ui']>()
  private readonly hasSampler: boolean
  private faultsDone = false

  constructor(
    private readonly env: ExecEnv,
    private readonly item: QueueItem,
  ) {
    this.promptId = item[1]
    this.graph = item[2]
    const clientId = item[3].client_id
    this.sid = typeof clientId === 'string' ? clientId : null
    this.hasSampler = Object.values(this.graph).some((n) => isSampler(n.class_type))
  }

  private check(): void {
    if (!this.env.alive()) throw new Abandoned()
  }

  private addMessage(event: string, data: Record<string, unknown>, broadcast: boolean): void {
    const stamped = { ...data, timestamp: Date.now() }
    this.statusMessages.push([event, stamped])
    if (this.sid !== null || broadcast) this.env.send(event, stamped, this.sid)
  }

  private sendProgressState(): void {
    const nodes: Record<string, unknown> = {}
    for (const [id, p] of this.progress) {
      if (p.state === 'pending') continue
      nodes[id] = {
        value: p.value,
        max: p.max,
        state: p.state,
        node_id: id,
        prompt_id: this.promptId,
        display_node_id: id,
        parent_node_id: null,
        real_node_id: id,
      }
    }
    this.env.send('progress_state', { prompt_id: this.promptId, nodes }, this.sid)
  }

  private setProgress(id: string, state: string, value: number, max: number): void {
    this.progress.set(id, { state, value, max })
    this.sendProgressState()
  }

  private finishProgress(id: string): void {
    const p = this.progress.get(id) ?? { state: 'pending', value: 0, max: 1 }
    this.setProgress(id, 'finished', p.max, p.max)
  }

  async run(): Promise<HistoryEntry> {
    this.env.clearInterrupt()
    this.addMessage('execution_start', { prompt_id: this.promptId }, false)
    const sigs = signatures(this.graph, this.env.catalogue, this.env.folders)
    this.env.cache.keepOnly(new Set(sigs.values()))
    const isCached = (id: string) => this.env.cache.get(sigs.get(id)!) !== undefined
    const cachedNodes = Object.keys(this.graph).filter(isCached)
    this.addMessage('execution_cached', { nodes: cachedNodes, prompt_id: this.promptId }, false)
    const currentOutputs = [...cachedNodes]

    const list = new ExecutionList(this.graph, this.env.catalogue, isCached)
    for (const output of this.item[4]) list.addNode(output)
    let success = true
    let failedNode = ''
    try {
      while (!list.isEmpty()) {
        const id = list.next()
        failedNode = id
        await this.executeNode(id, sigs.get(id)!)
        list.complete(id)
      }
      this.addMessage('execution_success', { prompt_id: this.promptId }, false)
    } catch (ex) {
      if (ex instanceof Abandoned) throw ex
      success = false
      const node = this.graph[failedNode]
      const base = {
        prompt_id: this.promptId,
        node_id: failedNode,
        node_type: node?.class_type ?? '',
        executed: [...this.executed],
      }
      if (ex instanceof Interrupted) {
        this.addMessage('execution_interrupted', base, true)
      } else {
        const err = ex instanceof PyError ? ex : new PyError('Exception', String(ex))
        const oom = err.type === 'torch.OutOfMemoryError'
        this.addMessage(
          'execution_error',
          {
            ...base,
            exception_message: `${err.message}\n${oom ? OOM_TIPS : ''}`,
            exception_type: err.type,
            traceback: [
              '  File "/comfy/execution.py", line 496, in execute\n    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n',
            ],
            current_inputs: currentInputs(this.resolveInputs(node?.inputs ?? {})),
            current_outputs: currentOutputs,
          },
          false,
        )
      }
    }
    const outputs: Record<string, unknown> = {}
    const meta: Record<string, unknown> = {}
    for (const id of Object.keys(this.graph)) {
      const ui = this.ui.get(id)
      if (!ui) continue
      outputs[id] = ui
      meta[id] = { node_id: id, display_node: id, parent_node: null, real_node_id: id }
    }
    this.env.setLastNode(null)
    return {
      prompt: this.item,
      outputs,
      status: {
        status_str: success ? 'success' : 'error',
        completed: success,
        messages: this.statusMessages,
      },
      meta,
    }
  }

  private resolveInputs(inputs: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [name, v] of Object.entries(inputs)) {
      out[name] = isLink(v) ? this.values.get(v[0])?.[v[1]] : v
    }
    return out
  }

  private async executeNode(id: string, signature: string): Promise<void> {
    const node = this.graph[id]
    const cached = this.env.cache.get(signature)
    if (cached) {
      this.values.set(id, cached.outputs)
      if (cached.ui) this.ui.set(id, cached.ui)
      if (this.sid !== null) {
        this.env.send(
          'executed',
          { node: id, display_node: id, output: cached.ui ?? null, prompt_id: this.promptId },
          this.sid,
        )
      }
      this.finishProgress(id)
      return
    }
    this.setProgress(id, 'running', 0, 1)
    const inputs = this.resolveInputs(node.inputs)
    if (this.sid !== null) {
      this.env.setLastNode(id)
      this.env.send('executing', { node: id, display_node: id, prompt_id: this.promptId }, this.sid)
    }
    // nodes.before_node_execution(): an interrupt that arrived while the previous node ran stops here
    if (this.env.isInterrupted()) {
      this.env.clearInterrupt()
      throw new Interrupted()
    }
    await this.env.gate?.({ kind: 'node', promptId: this.promptId, nodeId: id, classType: node.class_type })
    this.check()
    await this.injectFaults(node.class_type)
    const result = await this.compute(id, node.class_type, inputs)
    this.check()
    this.values.set(id, result.outputs)
    if (result.ui) {
      this.ui.set(id, result.ui)
      if (this.sid !== null) {
        this.env.send(
          'executed',
          { node: id, display_node: id, output: result.ui, prompt_id: this.promptId },
          this.sid,
        )
      }
    }
    this.env.cache.set(signature, result)
    this.finishProgress(id)
    this.executed.add(id)
    // let HTTP requests in between nodes, as ComfyUI's server thread does
    await sleep(0)
    this.check()
  }

  /** The faults strike the sampler, or the first node that runs when the graph has none. */
  private async injectFaults(classType: string): Promise<void> {
    if (this.faultsDone || !(isSampler(classType) || !this.hasSampler)) return
    this.faultsDone = true
    const { faults } = this.env
    if (faults.oomNext > 0) {
      faults.oomNext -= 1
      throw new PyError('torch.OutOfMemoryError', OOM_MESSAGE)
    }
    if (faults.failNext) {
      const { type, message } = faults.failNext
      faults.failNext = undefined
      throw new PyError(type, message)
    }
    if (faults.hangNext) {
      faults.hangNext = false
      await this.env.waitForInterrupt()
      this.check()
      this.env.clearInterrupt()
      throw new Interrupted()
    }
  }

  private async sample(id: string, classType: string, steps: number): Promise<void> {
    for (let step = 1; step <= steps; step++) {
      if (this.env.stepDelayMs > 0) await sleep(this.env.stepDelayMs)
      this.check()
      // main.py's progress hook: throw_exception_if_processing_interrupted() comes first
      if (this.env.isInterrupted()) {
        this.env.clearInterrupt()
        throw new Interrupted()
      }
      this.setProgress(id, 'running', step, steps)
      this.env.send('progress', { value: step, max: steps, prompt_id: this.promptId, node: id }, this.sid)
      if (this.env.previews) {
        this.env.sendPreview(this.sid, {
          node_id: id,
          prompt_id: this.promptId,
          display_node_id: id,
          parent_node_id: null,
          real_node_id: id,
        })
      }
      await this.env.gate?.({
        kind: 'step',
        promptId: this.promptId,
        nodeId: id,
        classType,
        value: step,
        max: steps,
      })
      this.check()
    }
  }

  private async compute(id: string, classType: string, inputs: Record<string, unknown>): Promise<Cached> {
    const num = (name: string) => Number(inputs[name])
    switch (classType) {
      case 'CheckpointLoaderSimple':
        return { outputs: [{ kind: 'ModelPatcher' }, { kind: 'CLIP' }, { kind: 'VAE' }] }
      case 'UNETLoader':
      case 'ModelSamplingAuraFlow':
        return { outputs: [{ kind: 'ModelPatcher' }] }
      case 'CLIPLoader':
      case 'DualCLIPLoader':
      case 'T5TokenizerOptions':
        return { outputs: [{ kind: 'CLIP' }] }
      case 'VAELoader':
        return { outputs: [{ kind: 'VAE' }] }
      case 'CLIPTextEncode':
      case 'FluxGuidance':
        return { outputs: [{ kind: 'Conditioning' }] }
      case 'EmptyLatentImage':
      case 'EmptySD3LatentImage': {
        const latent: Latent = {
          kind: 'latent',
          width: Math.floor(num('width') / 8) * 8,
          height: Math.floor(num('height') / 8) * 8,
          batch: num('batch_size'),
        }
        return { outputs: [latent] }
      }
      case 'KSampler':
      case 'KSamplerAdvanced': {
        const latent = inputs.latent_image as Latent
        const seed = classType === 'KSampler' ? num('seed') : num('noise_seed')
        const steps =
          classType === 'KSampler'
            ? num('steps')
            : Math.max(0, Math.min(num('end_at_step'), num('steps')) - num('start_at_step'))
        await this.sample(id, classType, steps)
        return { outputs: [{ ...latent, seed }] }
      }
      case 'RandomNoise':
        return { outputs: [{ kind: 'Noise_RandomNoise', seed: num('noise_seed') }] }
      case 'CFGGuider':
      case 'BasicGuider':
        return { outputs: [{ kind: 'Guider' }] }
      case 'KSamplerSelect':
        return { outputs: [{ kind: 'KSAMPLER', name: inputs.sampler_name }] }
      case 'BasicScheduler':
        return { outputs: [{ kind: 'Tensor', steps: num('denoise') <= 0 ? 0 : num('steps') }] }
      case 'SamplerCustomAdvanced': {
        const latent = inputs.latent_image as Latent
        const steps = (inputs.sigmas as { steps: number }).steps
        await this.sample(id, classType, steps)
        const out = { ...latent, seed: (inputs.noise as { seed: number }).seed }
        return { outputs: [out, out] }
      }
      case 'VAEDecode': {
        const latent = inputs.samples as Latent
        const frames: Frame[] = Array.from({ length: latent.batch }, (_, i) => ({
          width: latent.width,
          height: latent.height,
          color: latent.seed === undefined ? { r: 128, g: 128, b: 128 } : fakeImageColor(latent.seed, i),
        }))
        return { outputs: [{ kind: 'image', frames } satisfies ImageBatch] }
      }
      case 'EmptyImage': {
        const frames = Array.from({ length: num('batch_size') }, () => ({
          width: num('width'),
          height: num('height'),
          color: colorFromInt(num('color')),
        }))
        return { outputs: [{ kind: 'image', frames } satisfies ImageBatch] }
      }
      case 'ImageScaleBy': {
        const by = num('scale_by')
        const frames = (inputs.image as ImageBatch).frames.map((f) => ({
          ...f,
          width: Math.round(f.width * by),
          height: Math.round(f.height * by),
        }))
        return { outputs: [{ kind: 'image', frames } satisfies ImageBatch] }
      }
      case 'LoadImage': {
        const source = this.env.folders.get('input', '', String(inputs.image))
        if (!source)
          throw new PyError('FileNotFoundError', `[Errno 2] No such file or directory: '${inputs.image}'`)
        const size = await imageSize(source)
        const frames = [{ ...size, source }]
        return { outputs: [{ kind: 'image', frames } satisfies ImageBatch, { kind: 'Tensor' }] }
      }
      case 'SaveImage':
        return {
          outputs: [],
          ui: await this.save(inputs.images as ImageBatch, String(inputs.filename_prefix)),
        }
      default:
        throw new PyError('KeyError', `'${classType}'`)
    }
  }

  private async save(batch: ImageBatch, filenamePrefix: string): Promise<NonNullable<Cached['ui']>> {
    const first = batch.frames[0]
    const prefix = filenamePrefix
      .replaceAll('%width%', String(first?.width))
      .replaceAll('%height%', String(first?.height))
    const normalised = path.posix.normalize(prefix)
    const subfolder = path.posix.dirname(normalised) === '.' ? '' : path.posix.dirname(normalised)
    const filename = path.posix.basename(normalised)
    if (normalised.startsWith('/') || subfolder === '..' || subfolder.startsWith('../')) {
      throw new PyError('Exception', '**** ERROR: Saving image outside the output folder is not allowed.')
    }
    let counter = this.env.folders.nextCounter(subfolder, filename)
    const images: Array<{ filename: string; subfolder: string; type: string }> = []
    for (const [i, frame] of batch.frames.entries()) {
      const file = `${filename.replaceAll('%batch_num%', String(i))}_${String(counter).padStart(5, '0')}_.png`
      this.env.folders.put('output', subfolder, file, await encodePng(frame))
      this.check()
      images.push({ filename: file, subfolder, type: 'output' })
      counter += 1
    }
    return { images }
  }
}

export function isSampler(classType: string): boolean {
  return SAMPLERS.has(classType)
}
