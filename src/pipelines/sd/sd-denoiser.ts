/**
 * The UNet as the engine's batched model for `guidedDenoiser`: the state rows [cond; uncond] (or cond alone)
 * go through one UNet call with c_in·x and t(σ), and come back as denoised estimates c_skip·x + c_out·F
 * (engine-spec §1.2, §4.1). Both scalings are element-wise, so they apply to the stacked batch as a whole.
 * @module
 */
import type { BatchedModel, ModelSampling } from '../../engine/index.js'
import type { LatentShape } from '../pipeline-support.js'
import type { ModelSession, OutputTensor } from '../session.js'

/** A text encoder's `last_hidden_state` [1, L, D]. */
export type TextEncoding = OutputTensor

export function sdBatchedModel(
  unet: ModelSession,
  sampling: ModelSampling,
  shape: LatentShape,
  cond: TextEncoding,
  uncond: TextEncoding | undefined,
): BatchedModel {
  const [, channels, height, width] = shape
  const [, length, dim] = cond.dims
  let pair: Float32Array | undefined
  if (uncond) {
    pair = new Float32Array(cond.data.length + uncond.data.length)
    pair.set(cond.data)
    pair.set(uncond.data, cond.data.length)
  }
  return async (xBatch, sigma, batch) => {
    if (batch === 2 && !pair) throw new Error('sd pipeline: a guided call without a negative prompt encoding')
    const timestep = sampling.sigmaToTimestep(sigma)
    const out = await unet.run({
      sample: { data: sampling.calculateInput(sigma, xBatch), dims: [batch, channels, height, width] },
      timestep: { data: new Array<number>(batch).fill(timestep), dims: [batch] },
      encoder_hidden_states: {
        data: batch === 1 ? cond.data : (pair as Float32Array),
        dims: [batch, length, dim],
        constant: true,
      },
    })
    return sampling.calculateDenoised(sigma, out.out_sample.data, xBatch)
  }
}
