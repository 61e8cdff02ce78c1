// The graph side of ComfyUI's executor (comfy_execution/graph.py, caching.py): links, the classic output cache
// keyed by each node's input signature, and the order ExecutionList runs nodes in.

import type { NodeClass } from './catalogue.js'
import type { Folders } from './images.js'
import { PyError } from './python.js'
import type { Graph } from './validate.js'

export const isLink = (v: unknown): v is [string, number] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number'

/** What a node left behind: its outputs, and what it showed (SaveImage's images). */
export interface Cached {
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

export function signatures(
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
export class ExecutionList {
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
