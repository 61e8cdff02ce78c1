// Runs one queued prompt as ComfyUI 0.3.64's PromptExecutor does (execution.py, comfy_execution/graph.py and
// progress.py): the output cache of the previous prompt, the same node order, the same websocket messages in
// the same order to the same sockets, interrupts checked where ComfyUI checks them, and the history entry.

import type { NodeClass } from './catalogue.js'
import { type Cached, ExecutionList, isLink, type OutputCache, signatures } from './graph.js'
import type { Folders } from './images.js'
import { computeNode } from './nodes.js'
import { PyError } from './python.js'
import type { Graph } from './validate.js'

export { OutputCache } from './graph.js'

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
  /** the next N executions fail at their sampler (or first node, if none) with torch's CUDA out-of-memory error */
  oomNext: number
  /** the next execution fails at its sampler with this exception */
  failNext?: { type: string; message: string }
  /** the next execution stops at its sampler, before the first step, until interrupted */
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

class Interrupted extends Error {}

type RunFault = { kind: 'oom' } | { kind: 'fail'; type: string; message: string } | { kind: 'hang' }

function takeFault(faults: Faults): RunFault | undefined {
  if (faults.oomNext > 0) {
    faults.oomNext -= 1
    return { kind: 'oom' }
  }
  if (faults.failNext) {
    const fault = { kind: 'fail' as const, ...faults.failNext }
    faults.failNext = undefined
    return fault
  }
  if (faults.hangNext) {
    faults.hangNext = false
    return { kind: 'hang' }
  }
  return undefined
}
/** the process died (stop/restart) while the prompt ran */
export class Abandoned extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const SAMPLERS = new Set(['KSampler', 'KSamplerAdvanced', 'SamplerCustomAdvanced'])

const OOM_MESSAGE =
  'Allocation on device 0 would exceed allowed memory. (out of memory)\nCurrently allocated     : 131.20 GiB\n' +
  'Requested               : 9.00 GiB\nDevice limit            : 139.72 GiB\nFree (according to CUDA): 512.00 MiB\n' +
  'PyTorch limit (set by user-supplied memory fraction)\n                        : 17179869184.00 GiB'
const OOM_TIPS =
  'This error means you ran out of memory on your GPU.\n\nTIPS: If the workflow worked before you might have accidentally set the batch_size to a large number.'
const objectRepr = (type: string) =>
  `<${type} object at 0x7f${Math.floor(Math.random() * 0xfffffff).toString(16)}>`

/** ComfyUI's format_value over input_data_all: primitives as they are, everything else as str(). */
function currentInputs(inputs: Record<string, unknown>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {}
  for (const [name, v] of Object.entries(inputs)) {
    if (v === null || v === undefined) out[name] = [null]
    else if (['number', 'string', 'boolean'].includes(typeof v)) out[name] = [v]
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
  /** taken when the execution starts, so a prompt that dies before its sampler still uses it up */
  private fault: RunFault | undefined
  private readonly sigs: Map<string, string>

  constructor(
    private readonly env: ExecEnv,
    private readonly item: QueueItem,
  ) {
    this.promptId = item[1]
    this.graph = item[2]
    const clientId = item[3].client_id
    this.sid = typeof clientId === 'string' ? clientId : null
    this.hasSampler = Object.values(this.graph).some((n) => isSampler(n.class_type))
    this.fault = takeFault(env.faults)
    this.sigs = signatures(this.graph, env.catalogue, env.folders)
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
    const sigs = this.sigs
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
        // a PyError is a failure the fake plays; anything else is a bug in the fake, reported as ComfyUI would
        if (!(ex instanceof PyError)) console.error('fake ComfyUI: node', failedNode, 'failed', ex)
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
      if (!isLink(v)) {
        out[name] = v
        continue
      }
      // a cached node did not run this time: its outputs come from the cache, as get_input_data reads them
      const outputs = this.values.get(v[0]) ?? this.env.cache.get(this.sigs.get(v[0]) ?? '')?.outputs
      out[name] = outputs?.[v[1]]
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
    const result = await computeNode(
      {
        folders: this.env.folders,
        prompt: this.graph,
        extraPngInfo: this.item[3].extra_pnginfo,
        sample: (steps) => this.sample(id, node.class_type, steps),
        check: () => this.check(),
      },
      node.class_type,
      inputs,
    )
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

  /** The run's fault strikes its sampler, or the first node that runs when the graph has none. */
  private async injectFaults(classType: string): Promise<void> {
    if (!this.fault || !(isSampler(classType) || !this.hasSampler)) return
    const fault = this.fault
    this.fault = undefined
    if (fault.kind === 'oom') throw new PyError('torch.OutOfMemoryError', OOM_MESSAGE)
    if (fault.kind === 'fail') throw new PyError(fault.type, fault.message)
    await this.env.waitForInterrupt()
    this.check()
    this.env.clearInterrupt()
    throw new Interrupted()
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
}

export function isSampler(classType: string): boolean {
  return SAMPLERS.has(classType)
}
