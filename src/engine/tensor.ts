/**
 * Shape checks over flat tensors. The element-wise arithmetic lives in `vector-ops.ts` (WebAssembly kernels
 * with a JavaScript fallback).
 * @module
 */

export function assertSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: expected ${a.length} elements, got ${b.length}`)
}
