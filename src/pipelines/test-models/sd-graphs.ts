/**
 * Random-weight graphs with the exact signatures of an Optimum Stable Diffusion export (docs/model-format.md):
 * CLIP text encoder, UNet, VAE decoder. The networks are tiny stand-ins: every output depends on every input,
 * and row b of a batch depends only on row b of the inputs, so batching cond/uncond is exact.
 * @module
 */
import { GraphBuilder } from './graph-builder.js'
import type { SeededWeights } from './seeded-weights.js'

export const CLIP_LENGTH = 77

/** How the UNet declares `timestep`: Optimum's float scalar, the legacy [B] float, or a community [B] int64. */
export type TimestepVariant = 'scalar' | 'float32' | 'int64'

export interface SdGraphOptions {
  readonly vocabSize: number
  /** CLIP hidden size D (768 for SD 1.x). */
  readonly textDim: number
  /** UNet channel width. */
  readonly hidden: number
  /** Residual 1×1-conv blocks in the UNet. */
  readonly blocks: number
  /** Patch size: the UNet works on (h/p)×(w/p) tokens of 4p² channels; 1 works at full latent size. */
  readonly patch: number
  readonly timestep: TimestepVariant
  readonly inputIds: 'int64' | 'int32'
  /** `sample` channels; 4 for SD (a model whose input rank or size differs is built by the tests). */
  readonly latentChannels: number
}

/** `input_ids` [B,77] → `last_hidden_state` [B,77,D], `pooler_output` [B,D]. */
export function clipTextEncoderGraph(w: SeededWeights, o: SdGraphOptions): Uint8Array {
  const g = new GraphBuilder('text_encoder')
  const D = o.textDim
  const ids = g.input('input_ids', o.inputIds, ['batch_size', 'sequence_length'])
  const table = g.constant('token_embedding', [o.vocabSize, D], w.uniform('te.tok', o.vocabSize * D, 1))
  const positions = g.constant(
    'position_embedding',
    [CLIP_LENGTH, D],
    w.uniform('te.pos', CLIP_LENGTH * D, 0.5),
  )
  const embedded = g.node('Add', [g.node('Gather', [table, ids], { axis: { i: 0 } }), positions])
  const proj = g.constant('proj.weight', [D, D], w.matrix('te.proj', D, D))
  const bias = g.constant('proj.bias', [D], w.uniform('te.bias', D, 0.1))
  g.node('Tanh', [g.node('Add', [g.node('MatMul', [embedded, proj]), bias])], {}, ['last_hidden_state'])
  g.node('ReduceMean', ['last_hidden_state'], { axes: { ints: [1] }, keepdims: { i: 0 } }, ['pooler_output'])
  g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', D])
  g.output('pooler_output', 'float32', ['batch_size', D])
  return g.toBytes()
}

/** Sinusoidal features of t: [B|1, 1] → [B|1, C]. */
function timeFeatures(g: GraphBuilder, w: SeededWeights, t: string, C: number, maxPeriod: number): string {
  const freqs = Float32Array.from({ length: C }, (_, k) => Math.exp((-Math.log(maxPeriod) * k) / C))
  const phases = w.uniform('time.phase', C, Math.PI)
  const angle = g.node('Add', [g.node('Mul', [t, g.floats([1, C], freqs)]), g.floats([1, C], phases)])
  return g.node('Sin', [angle])
}

function conv1x1(
  g: GraphBuilder,
  w: SeededWeights,
  key: string,
  x: string,
  cin: number,
  cout: number,
  gain = 1,
): string {
  const weight = g.constant(`${key}.weight`, [cout, cin, 1, 1], w.matrix(key, cin, cout, gain))
  const bias = g.constant(`${key}.bias`, [cout], w.uniform(`${key}.bias`, cout, 0.05))
  return g.node('Conv', [x, weight, bias], { kernel_shape: { ints: [1, 1] } })
}

/** `sample` [B,4,h,w], `timestep`, `encoder_hidden_states` [B,77,D] → `out_sample` [B,4,h,w]. */
export function unetGraph(w: SeededWeights, o: SdGraphOptions): Uint8Array {
  const g = new GraphBuilder('unet')
  const { hidden: C, patch: P, textDim: D, latentChannels: L } = o
  const sample = g.input('sample', 'float32', ['batch_size', L, 'height', 'width'])
  const timestep =
    o.timestep === 'scalar'
      ? g.input('timestep', 'float32', [])
      : g.input('timestep', o.timestep, ['batch_size'])
  const text = g.input('encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', D])

  const tFloat = o.timestep === 'int64' ? g.node('Cast', [timestep], { to: { i: 1 } }) : timestep
  // A scalar t becomes [1,1] and broadcasts over the batch; a [B] t becomes [B,1].
  const tColumn = g.node('Unsqueeze', [tFloat, g.int64s(o.timestep === 'scalar' ? [0, 1] : [1])])
  const tEmb = g.node('MatMul', [
    timeFeatures(g, w, tColumn, C, 1000),
    g.constant('time.w', [C, C], w.matrix('unet.time', C, C)),
  ])
  const pooled = g.node('ReduceMean', [text], { axes: { ints: [1] }, keepdims: { i: 0 } })
  const tEmbText = g.node('MatMul', [pooled, g.constant('text.w', [D, C], w.matrix('unet.text', D, C))])
  const cond = g.node('Unsqueeze', [g.node('Add', [tEmb, tEmbText]), g.int64s([2, 3])])

  const patched = P === 1 ? sample : g.node('SpaceToDepth', [sample], { blocksize: { i: P } })
  const channels = L * P * P
  let h = g.node('Tanh', [g.node('Add', [conv1x1(g, w, 'unet.in', patched, channels, C), cond])])
  for (let b = 0; b < o.blocks; b++) {
    h = g.node('Add', [h, g.node('Tanh', [conv1x1(g, w, `unet.block${b}`, h, C, C)])])
  }
  const outPatched = conv1x1(g, w, 'unet.out', h, C, channels, 0.3)
  const out =
    P === 1 ? outPatched : g.node('DepthToSpace', [outPatched], { blocksize: { i: P }, mode: { s: 'DCR' } })
  // The input passes straight through, so the "noise prediction" tracks the noisy sample like a trained UNet's
  // and the final latent stays in a range the VAE turns into colours rather than saturated noise.
  g.node('Add', [out, sample], {}, ['out_sample'])
  g.output('out_sample', 'float32', ['batch_size', L, 'height', 'width'])
  return g.toBytes()
}

/**
 * `latent_sample` [B,C,h,w] → `sample` [B,3,8h,8w] in (−1, 1). Shared by both families (C = 4 or 16); `gain`
 * offsets the family's latent scaling so that colours do not saturate.
 */
export function vaeDecoderGraph(w: SeededWeights, channels: number, gain: number): Uint8Array {
  const g = new GraphBuilder('vae_decoder')
  const latent = g.input('latent_sample', 'float32', [
    'batch_size',
    channels,
    'latent_height',
    'latent_width',
  ])
  const expanded = conv1x1(g, w, 'vae.out', latent, channels, 3 * 64, gain)
  const pixels = g.node('DepthToSpace', [expanded], { blocksize: { i: 8 }, mode: { s: 'DCR' } })
  g.node('Tanh', [pixels], {}, ['sample'])
  g.output('sample', 'float32', ['batch_size', 3, 'height', 'width'])
  return g.toBytes()
}
