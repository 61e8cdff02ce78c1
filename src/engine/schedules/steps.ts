/**
 * Shared checks and conventions of the schedule functions.
 * @module
 */

/** Steps are a whole number ≥ 1 (ComfyUI accepts 1…10000). */
export function assertSteps(steps: number, where: string): void {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`${where}: steps must be an integer ≥ 1, got ${steps}`)
  }
}

/** ComfyUI returns `torch.FloatTensor`s: round every σ to float32 and end with a final 0 (k-diffusion `append_zero`). */
export function float32WithZero(sigmas: ArrayLike<number>): number[] {
  const out = Array.from(sigmas, (sigma) => Math.fround(sigma))
  out.push(0)
  return out
}
