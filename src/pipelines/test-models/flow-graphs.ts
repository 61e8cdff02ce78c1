/**
 * Random-weight graphs with the signatures of a FLUX/Chroma-style ONNX export (docs/model-format.md): a T5-like
 * encoder and a DiT-like transformer on 2×2-packed latents. Batch rows stay independent; every input matters.
 * @module
 */
import { GraphBuilder } from './graph-builder.js'
import type { SeededWeights } from './seeded-weights.js'

export interface FlowGraphOptions {
  readonly vocabSize: number
  /** T5 hidden size D (4096 for T5-XXL). */
  readonly textDim: number
  /** Transformer width. */
  readonly hidden: number
  /** FLUX-style extras: a `pooled_projections` [B, pooledDim] input (CLIP pooled) and a `guidance` [B] input. */
  readonly pooledDim?: number
  readonly guidance?: boolean
}

/** `input_ids` [B,L], `attention_mask` [B,L] → `last_hidden_state` [B,L,D]. */
export function t5EncoderGraph(w: SeededWeights, o: FlowGraphOptions): Uint8Array {
  const g = new GraphBuilder('text_encoder')
  const D = o.textDim
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length'])
  const maskInput = g.input('attention_mask', 'int64', ['batch_size', 'sequence_length'])
  const table = g.constant('shared.weight', [o.vocabSize, D], w.uniform('t5.tok', o.vocabSize * D, 1))
  const embedded = g.node('Gather', [table, ids], { axis: { i: 0 } })
  // A masked mean over the sequence stands in for attention: padded positions never influence the context.
  const mask = g.node('Unsqueeze', [g.node('Cast', [maskInput], { to: { i: 1 } }), g.int64s([2])])
  const keep = { axes: { ints: [1] }, keepdims: { i: 1 } }
  const total = g.node('ReduceMean', [g.node('Mul', [embedded, mask])], keep)
  const count = g.node('Add', [g.node('ReduceMean', [mask], keep), g.floats([], [1e-6])])
  const context = g.node('Div', [total, count])
  const own = g.node('MatMul', [embedded, g.constant('w.token', [D, D], w.matrix('t5.own', D, D))])
  const shared = g.node('MatMul', [context, g.constant('w.context', [D, D], w.matrix('t5.ctx', D, D))])
  g.node('Tanh', [g.node('Add', [own, shared])], {}, ['last_hidden_state'])
  g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', D])
  return g.toBytes()
}

/**
 * `hidden_states` [B,L_img,64], `encoder_hidden_states` [B,L_txt,D], `timestep` [B] (σ), `img_ids` [L_img,3],
 * `txt_ids` [L_txt,3] → `out_hidden_states` [B,L_img,64] (velocity).
 */
export function fluxTransformerGraph(w: SeededWeights, o: FlowGraphOptions): Uint8Array {
  const g = new GraphBuilder('transformer')
  const { hidden: H, textDim: D } = o
  const hidden = g.input('hidden_states', 'float32', ['batch_size', 'image_tokens', 64])
  const text = g.input('encoder_hidden_states', 'float32', ['batch_size', 'text_tokens', D])
  const timestep = g.input('timestep', 'float32', ['batch_size'])
  const imgIds = g.input('img_ids', 'float32', ['image_tokens', 3])
  const txtIds = g.input('txt_ids', 'float32', ['text_tokens', 3])

  const x = g.node('MatMul', [hidden, g.constant('x_embedder.weight', [64, H], w.matrix('dit.in', 64, H))])
  const pos = g.node('Sin', [
    g.node('MatMul', [imgIds, g.constant('pos.weight', [3, H], w.uniform('dit.pos', 3 * H, 0.8))]),
  ])
  const keep = { axes: { ints: [1] }, keepdims: { i: 1 } }
  const txt = g.node(
    'ReduceMean',
    [g.node('MatMul', [text, g.constant('context_embedder.weight', [D, H], w.matrix('dit.txt', D, H))])],
    keep,
  )
  const txtPos = g.node('Cos', [
    g.node('MatMul', [txtIds, g.constant('txtpos.weight', [3, H], w.uniform('dit.tpos', 3 * H, 0.8))]),
  ])
  const txtPosMean = g.node('ReduceMean', [txtPos], { axes: { ints: [0] }, keepdims: { i: 1 } })
  // The real transformer multiplies σ by 1000 before its sinusoidal embedding; so does this one.
  const tColumn = g.node('Unsqueeze', [g.node('Mul', [timestep, g.floats([], [1000])]), g.int64s([1])])
  const freqs = Float32Array.from({ length: H }, (_, k) => Math.exp((-Math.log(1000) * k) / H))
  const tAngle = g.node('Add', [
    g.node('Mul', [tColumn, g.floats([1, H], freqs)]),
    g.floats([1, H], w.uniform('dit.phase', H, Math.PI)),
  ])
  const tEmb = g.node('Unsqueeze', [g.node('Sin', [tAngle]), g.int64s([1])])

  const extras: string[] = []
  if (o.pooledDim) {
    const pooled = g.input('pooled_projections', 'float32', ['batch_size', o.pooledDim])
    const projected = g.node('MatMul', [
      pooled,
      g.constant('pooled.weight', [o.pooledDim, H], w.matrix('dit.pooled', o.pooledDim, H)),
    ])
    extras.push(g.node('Unsqueeze', [projected, g.int64s([1])]))
  }
  if (o.guidance) {
    const guidance = g.input('guidance', 'float32', ['batch_size'])
    const column = g.node('Unsqueeze', [guidance, g.int64s([1, 2])])
    extras.push(g.node('Mul', [column, g.floats([1, 1, H], w.uniform('dit.guidance', H, 0.3))]))
  }
  const sum = g.node('Add', [
    g.node('Add', [g.node('Add', [x, pos]), g.node('Add', [txt, txtPosMean])]),
    tEmb,
  ])
  const h = g.node('Tanh', [extras.reduce((acc, extra) => g.node('Add', [acc, extra]), sum)])
  const out = g.node('MatMul', [h, g.constant('proj_out.weight', [H, 64], w.matrix('dit.out', H, 64, 0.3))])
  // The input passes straight through (velocity ≈ x, as for a trained model early on), keeping latents in range.
  g.node('Add', [out, hidden], {}, ['out_hidden_states'])
  g.output('out_hidden_states', 'float32', ['batch_size', 'image_tokens', 64])
  return g.toBytes()
}
