/**
 * The FLUX/Chroma-style transformer as the engine's batched model for `guidedDenoiser`. The sampler's state
 * stays an unpacked latent [1, 16, h, w] (so its noise has ComfyUI's layout); each call packs the rows 2×2,
 * feeds σ as the time input with the position ids, and turns the velocity back into denoised estimates
 * x − σ·v (engine-spec §1.3, §4.1, §6). Rows [cond; uncond] go in one batch-2 call when their text lengths
 * match (always with `max_length` padding); Chroma's per-prompt lengths otherwise take two batch-1 calls,
 * because padding a prompt would change what the transformer sees (engine-spec §4, §5).
 * @module
 */
import type { BatchedModel, ModelSampling } from '../../engine/index.js'
import type { LatentShape } from '../pipeline-support.js'
import type { Feed, ModelSession, OutputTensor } from '../session.js'
import { imageIds, packLatent, textIds, unpackLatent } from './packing.js'

/** One prompt's conditioning. */
export interface FlowTextEncoding {
  /** T5 `last_hidden_state` [1, L, D] (only the positions the transformer should see). */
  readonly states: OutputTensor
  /** CLIP `pooler_output` [1, P], for transformers with a `pooled_projections` input (FLUX). */
  readonly pooled?: OutputTensor
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** Ids are [L, 3] in current exports and [B, L, 3] in exports from diffusers < 0.31. */
function idsFeed(transformer: ModelSession, name: string, ids: Float32Array, batch: number): Feed {
  const rows = ids.length / 3
  if (transformer.input(name)?.dims.length === 3) {
    return { data: concat(new Array(batch).fill(ids)), dims: [batch, rows, 3] }
  }
  return { data: ids, dims: [rows, 3] }
}

export interface FlowModelOptions {
  /** Fed to a `guidance` input when the export has one (FLUX dev's distilled guidance). */
  readonly guidance: number
}

export function flowBatchedModel(
  transformer: ModelSession,
  sampling: ModelSampling,
  shape: LatentShape,
  cond: FlowTextEncoding,
  uncond: FlowTextEncoding | undefined,
  options: FlowModelOptions,
): BatchedModel {
  const [, channels, height, width] = shape
  const tokens = (height / 2) * (width / 2)
  const imgIds = imageIds(height / 2, width / 2)
  const rowSize = channels * height * width

  /** One transformer call for rows that share a text length; returns the packed velocities. */
  async function velocity(rows: readonly Float32Array[], sigma: number, text: readonly FlowTextEncoding[]) {
    const batch = rows.length
    const [, length, dim] = text[0].states.dims
    const feeds: Record<string, Feed> = {
      hidden_states: { data: concat(rows), dims: [batch, tokens, channels * 4] },
      encoder_hidden_states: { data: concat(text.map((t) => t.states.data)), dims: [batch, length, dim] },
      timestep: { data: new Array<number>(batch).fill(sampling.sigmaToTimestep(sigma)), dims: [batch] },
      img_ids: idsFeed(transformer, 'img_ids', imgIds, batch),
      txt_ids: idsFeed(transformer, 'txt_ids', textIds(length), batch),
    }
    if (transformer.hasInput('pooled_projections')) {
      const pooled = text.map((t) => {
        if (!t.pooled)
          throw new Error('flow pipeline: the transformer takes pooled_projections but no CLIP ran')
        return t.pooled.data
      })
      feeds.pooled_projections = { data: concat(pooled), dims: [batch, pooled[0].length] }
    }
    if (transformer.hasInput('guidance')) {
      feeds.guidance = { data: new Array<number>(batch).fill(options.guidance), dims: [batch] }
    }
    return (await transformer.run(feeds, ['out_hidden_states'])).out_hidden_states.data
  }

  return async (xBatch, sigma, batch) => {
    if (batch === 2 && !uncond)
      throw new Error('flow pipeline: a guided call without a negative prompt encoding')
    const input = sampling.calculateInput(sigma, xBatch)
    const packed = Array.from({ length: batch }, (_, b) =>
      packLatent(input.subarray(b * rowSize, (b + 1) * rowSize), channels, height, width),
    )
    const texts = batch === 1 ? [cond] : [cond, uncond as FlowTextEncoding]
    let packedOut: Float32Array
    if (batch === 1 || texts[0].states.dims[1] === texts[1].states.dims[1]) {
      packedOut = await velocity(packed, sigma, texts)
    } else {
      packedOut = concat([
        await velocity([packed[0]], sigma, [texts[0]]),
        await velocity([packed[1]], sigma, [texts[1]]),
      ])
    }
    const out = new Float32Array(xBatch.length)
    for (let b = 0; b < batch; b++) {
      const row = packedOut.subarray(b * rowSize, (b + 1) * rowSize)
      out.set(unpackLatent(row, channels, height, width), b * rowSize)
    }
    return sampling.calculateDenoised(sigma, out, xBatch)
  }
}
