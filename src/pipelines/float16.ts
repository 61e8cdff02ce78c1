/**
 * IEEE 754 half-precision conversion for fp16 ONNX exports. Node 20 has no Float16Array, so onnxruntime-node
 * takes and returns float16 tensors as the raw bits in a Uint16Array.
 * @module
 */

const scratch = new DataView(new ArrayBuffer(4))

/** Rounds to nearest even, like a hardware float32 → float16 cast (overflow → ±Infinity). */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) {
    scratch.setFloat32(0, values[i])
    const bits = scratch.getUint32(0)
    const sign = (bits >>> 16) & 0x8000
    const exponent = (bits >>> 23) & 0xff
    let mantissa = bits & 0x7fffff
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0)
      continue
    }
    const e = exponent - 127 + 15
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign
        continue
      }
      mantissa |= 0x800000
      const shift = 14 - e
      let half = mantissa >>> shift
      const rest = mantissa & ((1 << shift) - 1)
      const midpoint = 1 << (shift - 1)
      if (rest > midpoint || (rest === midpoint && half & 1)) half++
      out[i] = sign | half
    } else {
      let half = (e << 10) | (mantissa >>> 13)
      const rest = mantissa & 0x1fff
      if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++
      out[i] = sign | half
    }
  }
  return out
}

export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length)
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]
    const sign = h & 0x8000 ? -1 : 1
    const exponent = (h >>> 10) & 0x1f
    const mantissa = h & 0x3ff
    if (exponent === 0) out[i] = sign * mantissa * 2 ** -24
    else if (exponent === 0x1f) out[i] = mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY
    else out[i] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
  }
  return out
}
