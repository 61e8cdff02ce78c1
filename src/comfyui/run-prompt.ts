/**
 * Runs one graph on one ComfyUI and resolves with its saved images. The socket reports progress, previews
 * and the end (`execution_success`, or `executing {node: null}`); `/history` is the fallback whenever the
 * socket is closed or silent for `pollMs`, so a dead socket never hangs a job. A prompt that neither
 * history nor the queue knows any more was lost (ComfyUI restarted): that is a retryable UNAVAILABLE.
 * Abort removes the prompt from ComfyUI's queue and interrupts it if it is running.
 * @module
 */
import { randomUUID } from 'node:crypto'
import { errors } from '../core/errors.js'
import type { ComfyClient } from './client.js'
import { executionError, interruptedError } from './comfy-errors.js'
import type { ComfyEvent, ComfyGraph, HistoryOutcome, ImageRef } from './protocol.js'
import type { ComfySocket } from './socket.js'

export interface RunPromptHooks {
  readonly signal?: AbortSignal
  /** Sampler steps of the running prompt (ComfyUI `progress`). */
  readonly onProgress?: (value: number, max: number) => void
  /** A preview frame while sampling (JPEG or PNG bytes). */
  readonly onPreview?: (mime: string, bytes: Uint8Array) => void
}

export interface RunPromptTiming {
  /** Poll `/history` when the socket has been closed or silent this long (default 1 s). */
  readonly pollMs?: number
  /** Longest a prompt may take from submission, queue time included (default 30 min). */
  readonly deadlineMs?: number
  /** Longest ComfyUI may stay unreachable during a run before the run gives up (default 30 s). */
  readonly unreachableMs?: number
}

export interface ComfyConnection {
  readonly client: ComfyClient
  readonly socket: ComfySocket
}

type Settle =
  | { readonly ok: true; readonly images: readonly ImageRef[] }
  | { readonly ok: false; readonly error: unknown }

export async function runPrompt(
  connection: ComfyConnection,
  graph: ComfyGraph,
  hooks: RunPromptHooks = {},
  timing: RunPromptTiming = {},
): Promise<{ readonly promptId: string; readonly images: readonly ImageRef[] }> {
  const { client, socket } = connection
  hooks.signal?.throwIfAborted()
  await socket.ready()
  const promptId = randomUUID()
  const run = new PromptRun(connection, promptId, hooks, timing)
  const unlisten = socket.listen(promptId, run)
  try {
    await client.submit(graph, socket.clientId, promptId)
    // aborted while the submission was on its way: the cancel above could not find the prompt yet
    if (hooks.signal?.aborted) await run.cancel()
    return { promptId, images: await run.finished() }
  } finally {
    unlisten()
    run.dispose()
  }
}

class PromptRun {
  readonly #connection: ComfyConnection
  readonly #promptId: string
  readonly #hooks: RunPromptHooks
  readonly #pollMs: number
  readonly #deadline: number
  readonly #unreachableMs: number
  readonly #settled: Promise<Settle>
  #settle!: (value: Settle) => void
  #done = false
  #checking = false
  #unreachableSince: number | null = null
  #timer: NodeJS.Timeout
  #onAbort: () => void

  constructor(connection: ComfyConnection, promptId: string, hooks: RunPromptHooks, timing: RunPromptTiming) {
    this.#connection = connection
    this.#promptId = promptId
    this.#hooks = hooks
    this.#pollMs = timing.pollMs ?? 1000
    this.#deadline = Date.now() + (timing.deadlineMs ?? 30 * 60_000)
    this.#unreachableMs = timing.unreachableMs ?? 30_000
    this.#settled = new Promise((resolve) => {
      this.#settle = resolve
    })
    this.#timer = setInterval(() => this.#tick(), Math.max(10, Math.min(this.#pollMs, 1000)))
    this.#timer.unref()
    this.#onAbort = () => void this.cancel()
    hooks.signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  async finished(): Promise<readonly ImageRef[]> {
    const result = await this.#settled
    if (result.ok) return result.images
    throw result.error
  }

  dispose(): void {
    clearInterval(this.#timer)
    this.#hooks.signal?.removeEventListener('abort', this.#onAbort)
    this.#finish({ ok: false, error: new Error('run disposed') })
  }

  onEvent(event: ComfyEvent): void {
    switch (event.kind) {
      case 'progress':
        this.#hooks.onProgress?.(event.value, event.max)
        return
      case 'preview':
        this.#hooks.onPreview?.(event.mime, event.bytes)
        return
      case 'success':
        // ComfyUI writes the history entry after this and then says `executing {node: null}`; wait for that
        return
      case 'executing':
        if (event.node === null) void this.#check(true)
        return
      case 'error':
        this.#finish({ ok: false, error: executionError(event) })
        return
      case 'interrupted':
        this.#finish({ ok: false, error: this.#hooks.signal?.reason ?? interruptedError() })
        return
    }
  }

  onClose(): void {
    void this.#check(false)
  }

  #finish(result: Settle): void {
    if (this.#done) return
    this.#done = true
    clearInterval(this.#timer)
    this.#settle(result)
  }

  #tick(): void {
    if (this.#done) return
    if (Date.now() > this.#deadline) {
      void this.cancel(
        errors.REQUEST_TIMEOUT(`ComfyUI did not finish the prompt within its deadline`, {
          details: { promptId: this.#promptId },
        }),
      )
      return
    }
    const { socket } = this.#connection
    if (!socket.open || Date.now() - socket.lastFrameAt >= this.#pollMs) void this.#check(false)
  }

  /** Asks `/history` (and `/queue` when history does not know the prompt) how the prompt stands. */
  async #check(ended: boolean): Promise<void> {
    if (this.#done || this.#checking) return
    this.#checking = true
    try {
      const { client } = this.#connection
      let outcome: HistoryOutcome = await client.history(this.#promptId)
      // a proxy or an older ComfyUI may deliver the end a moment before the history entry is readable
      for (let i = 0; ended && outcome.state === 'unknown' && i < 50; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        outcome = await client.history(this.#promptId)
      }
      this.#unreachableSince = null
      if (outcome.state === 'success') this.#finish({ ok: true, images: outcome.images })
      else if (outcome.state === 'error') {
        const event = outcome.event
        const error =
          event?.kind === 'error' ? executionError(event) : (this.#hooks.signal?.reason ?? interruptedError())
        this.#finish({ ok: false, error })
      } else if (!(await client.queued()).has(this.#promptId)) {
        if ((await client.history(this.#promptId)).state !== 'unknown') return
        this.#finish({
          ok: false,
          error: errors.UNAVAILABLE(
            `ComfyUI at ${client.url} lost the prompt (it restarted or cleared its queue); the job will be retried`,
            { details: { promptId: this.#promptId }, retryAfterSeconds: 1 },
          ),
        })
      }
    } catch (error) {
      this.#unreachableSince ??= Date.now()
      if (Date.now() - this.#unreachableSince >= this.#unreachableMs) this.#finish({ ok: false, error })
    } finally {
      this.#checking = false
    }
  }

  async cancel(reason?: unknown): Promise<void> {
    const error = reason ?? this.#hooks.signal?.reason ?? errors.JOB_CANCELED('canceled')
    const { client } = this.#connection
    this.#finish({ ok: false, error })
    // both are harmless when they do not apply: delete only touches pending prompts, interrupt only the running one
    await Promise.allSettled([client.deleteQueued([this.#promptId]), client.interrupt(this.#promptId)])
  }
}
