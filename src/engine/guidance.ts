/**
 * Classifier-free guidance (Ho & Salimans 2022): the combination of conditional and unconditional estimates,
 * and a denoiser that evaluates both halves in one batched network call.
 * @module
 */
import { assertSameLength } from './tensor.js'
import type { Denoiser } from './types.js'

/** D_u + s·(D_c − D_u), ComfyUI `cfg_function`. Writes into `out` when given. */
export function cfgCombine(
  cond: Float32Array,
  uncond: Float32Array,
  scale: number,
  out = new Float32Array(cond.length),
): Float32Array {
  assertSameLength(cond, uncond, 'cfgCombine')
  assertSameLength(cond, out, 'cfgCombine output')
  for (let i = 0; i < cond.length; i++) out[i] = uncond[i] + scale * (cond[i] - uncond[i])
  return out
}

/**
 * The network behind a guided denoiser: given `batch` copies of the state stacked along the batch axis —
 * [cond; uncond] for 2, cond alone for 1 — it returns the denoised estimate of each half in the same order.
 */
export type BatchedModel = (xBatch: Float32Array, sigma: number, batch: 1 | 2) => Promise<Float32Array>

export interface GuidedDenoiserOptions {
  readonly model: BatchedModel
  /** Guidance scale s; 1 means no guidance. */
  readonly cfg: number
}

/**
 * A denoiser applying classifier-free guidance with one network call per evaluation: a batch of two
 * ([cond; uncond]) when cfg ≠ 1, and only the conditional half (batch 1) when cfg is 1, ComfyUI's
 * `math.isclose(cfg, 1.0)` shortcut. The returned array is reused by the next evaluation.
 */
export function guidedDenoiser({ model, cfg }: GuidedDenoiserOptions): Denoiser {
  if (!Number.isFinite(cfg)) throw new RangeError(`guidedDenoiser: cfg must be a finite number, got ${cfg}`)
  const unguided = isClose(cfg, 1)
  let batchInput = new Float32Array(0)
  let combined = new Float32Array(0)
  return async (x, sigma) => {
    const n = x.length
    if (unguided) {
      const output = await model(x, sigma, 1)
      checkLength(output, n)
      return output
    }
    if (batchInput.length !== 2 * n) {
      batchInput = new Float32Array(2 * n)
      combined = new Float32Array(n)
    }
    batchInput.set(x, 0)
    batchInput.set(x, n)
    const output = await model(batchInput, sigma, 2)
    checkLength(output, 2 * n)
    return cfgCombine(output.subarray(0, n), output.subarray(n), cfg, combined)
  }
}

/** Python's math.isclose with its defaults (relative tolerance 1e-9, no absolute tolerance). */
function isClose(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b))
}

function checkLength(output: Float32Array, expected: number): void {
  if (!(output instanceof Float32Array) || output.length !== expected) {
    throw new RangeError(`guidedDenoiser: the model returned ${output?.length} values, expected ${expected}`)
  }
}
