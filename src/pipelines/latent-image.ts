/**
 * Latents ↔ pixels: the VAE's [−1, 1] output to 8-bit RGB, the latent scaling of each family (engine-spec §6),
 * and a cheap linear latent → RGB preview for progress reports.
 * @module
 */

/** Model-space latent → what the VAE decoder takes: z/scale + shift (SD: /0.18215; Flux: /0.3611 + 0.1159). */
export function toVaeLatent(z: Float32Array, scalingFactor: number, shiftFactor: number): Float32Array {
  const out = new Float32Array(z.length)
  for (let i = 0; i < z.length; i++) out[i] = z[i] / scalingFactor + shiftFactor
  return out
}

/**
 * Image `index` of a VAE output [B, 3, H, W] in ≈[−1, 1] → interleaved 8-bit RGB:
 * round(clamp((y + 1)/2, 0, 1)·255).
 */
export function vaeOutputToRgb(data: Float32Array, dims: readonly number[], index = 0): Uint8Array {
  const [, channels, height, width] = dims
  if (channels !== 3) throw new RangeError(`VAE output has ${channels} channels; expected 3 (dims [${dims}])`)
  const plane = height * width
  const base = index * 3 * plane
  const rgb = new Uint8Array(plane * 3)
  for (let c = 0; c < 3; c++) {
    const offset = base + c * plane
    for (let p = 0; p < plane; p++) {
      const v = (data[offset + p] + 1) / 2
      rgb[p * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255)
    }
  }
  return rgb
}

interface RgbProjection {
  readonly factors: readonly (readonly [number, number, number])[]
  readonly bias: readonly [number, number, number]
}

/** Linear latent → RGB fits from ComfyUI `comfy/latent_formats.py` (`latent_rgb_factors`, SD15 and Flux). */
const PROJECTIONS: Readonly<Record<number, RgbProjection>> = {
  4: {
    factors: [
      [0.3512, 0.2297, 0.3227],
      [0.325, 0.4974, 0.235],
      [-0.2829, 0.1762, 0.2721],
      [-0.212, -0.2616, -0.7177],
    ],
    bias: [0, 0, 0],
  },
  16: {
    factors: [
      [-0.0346, 0.0244, 0.0681],
      [0.0034, 0.021, 0.0687],
      [0.0275, -0.0668, -0.0433],
      [-0.0174, 0.016, 0.0617],
      [0.0859, 0.0721, 0.0329],
      [0.0004, 0.0383, 0.0115],
      [0.0405, 0.0861, 0.0915],
      [-0.0236, -0.0185, -0.0259],
      [-0.0245, 0.025, 0.118],
      [0.1008, 0.0755, -0.0421],
      [-0.0515, 0.0201, 0.0011],
      [0.0428, -0.0012, -0.0036],
      [0.0817, 0.0765, 0.0749],
      [-0.1264, -0.0522, -0.1103],
      [-0.028, -0.0881, -0.0499],
      [-0.1262, -0.0982, -0.0778],
    ],
    bias: [-0.0329, -0.0718, -0.0851],
  },
}

export interface Preview {
  readonly width: number
  readonly height: number
  readonly rgb: Uint8Array
}

/**
 * A latent-resolution RGB preview of a model-space latent [C, h, w] (one image). Latent formats without a fit
 * show their first three channels.
 */
export function latentPreview(
  latent: Float32Array,
  channels: number,
  height: number,
  width: number,
): Preview {
  const plane = height * width
  const projection = PROJECTIONS[channels]
  const rgb = new Uint8Array(plane * 3)
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < 3; k++) {
      let v: number
      if (projection) {
        v = projection.bias[k]
        for (let c = 0; c < channels; c++) v += latent[c * plane + p] * projection.factors[c][k]
      } else {
        v = latent[Math.min(k, channels - 1) * plane + p]
      }
      const unit = (v + 1) / 2
      rgb[p * 3 + k] = Math.round(Math.min(1, Math.max(0, unit)) * 255)
    }
  }
  return { width, height, rgb }
}
