/**
 * Checks the exported pigment-shapes graphs against docs/model-format.md (flow family): input/output names,
 * dtypes and ranks, then runs the parity vectors from export.py and compares with the torch outputs, and
 * the tokenizer against the Python tokenizer.
 *
 * Usage: npx tsx tools/demo-model/check-onnx.ts [model folder] [parity.json]
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Tokenizer } from '@huggingface/tokenizers'
import { InferenceSession, Tensor } from 'onnxruntime-node'

const here = import.meta.dirname
const folder = process.argv[2] ?? join(here, '../../models/pigment-shapes')
const parity = JSON.parse(readFileSync(process.argv[3] ?? join(here, 'work/parity.txt'), 'utf8'))

type Spec = Record<string, [type: string, rank: number]>
const GRAPHS: Record<string, { inputs: Spec; outputs: Spec }> = {
  'text_encoder/model.onnx': {
    inputs: { input_ids: ['int64', 2], attention_mask: ['int64', 2] },
    outputs: { last_hidden_state: ['float32', 3] },
  },
  'transformer/model.onnx': {
    inputs: {
      hidden_states: ['float32', 3],
      encoder_hidden_states: ['float32', 3],
      timestep: ['float32', 1],
      img_ids: ['float32', 2],
      txt_ids: ['float32', 2],
    },
    outputs: { out_hidden_states: ['float32', 3] },
  },
  'vae_decoder/model.onnx': {
    inputs: { latent_sample: ['float32', 4] },
    outputs: { sample: ['float32', 4] },
  },
}

let failures = 0
function check(ok: boolean, what: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) failures++
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = a.length === b.length ? 0 : Number.POSITIVE_INFINITY
  for (let i = 0; i < Math.min(a.length, b.length); i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

const sessions: Record<string, InferenceSession> = {}
for (const [path, spec] of Object.entries(GRAPHS)) {
  const session = await InferenceSession.create(join(folder, path))
  sessions[path] = session
  for (const [kind, want, meta] of [
    ['input', spec.inputs, session.inputMetadata],
    ['output', spec.outputs, session.outputMetadata],
  ] as const) {
    const names = meta.map((m) => m.name)
    check(JSON.stringify(names) === JSON.stringify(Object.keys(want)), `${path} ${kind}s ${names.join(', ')}`)
    for (const m of meta) {
      if (!m.isTensor || !(m.name in want)) continue
      const [type, rank] = want[m.name]
      check(m.type === type && m.shape.length === rank, `${path} ${m.name} ${m.type} [${m.shape.join(', ')}]`)
    }
  }
}

const [batch, length] = [parity.input_ids.length, parity.input_ids[0].length]
const i64 = (rows: number[][]) =>
  new Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [batch, length])
const text = await sessions['text_encoder/model.onnx'].run({
  input_ids: i64(parity.input_ids),
  attention_mask: i64(parity.attention_mask),
})
const states = text.last_hidden_state as Tensor
check(
  maxDiff(states.data as Float32Array, parity.last_hidden_state) < 1e-3,
  `text encoder parity [${states.dims}]`,
)

const imgIds = new Float32Array(16 * 3)
for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) imgIds.set([0, r, c], (r * 4 + c) * 3)
const flow = await sessions['transformer/model.onnx'].run({
  hidden_states: new Tensor('float32', Float32Array.from(parity.hidden_states), [batch, 16, 64]),
  encoder_hidden_states: states,
  timestep: new Tensor('float32', Float32Array.from(parity.timestep), [batch]),
  img_ids: new Tensor('float32', imgIds, [16, 3]),
  txt_ids: new Tensor('float32', new Float32Array(length * 3), [length, 3]),
})
const velocity = flow.out_hidden_states as Tensor
check(
  maxDiff(velocity.data as Float32Array, parity.out_hidden_states) < 1e-3,
  `transformer parity [${velocity.dims}]`,
)

const vae = await sessions['vae_decoder/model.onnx'].run({
  latent_sample: new Tensor('float32', Float32Array.from(parity.latent_sample), [1, 16, 8, 8]),
})
const sample = vae.sample as Tensor
check(maxDiff(sample.data as Float32Array, parity.sample) < 1e-3, `vae decoder parity [${sample.dims}]`)
const big = await sessions['vae_decoder/model.onnx'].run({
  latent_sample: new Tensor('float32', new Float32Array(2 * 16 * 16 * 12), [2, 16, 16, 12]),
})
check((big.sample as Tensor).dims.join() === '2,3,128,96', 'vae decoder dynamic size 16x12 -> 128x96')

const tokenizerJson = JSON.parse(readFileSync(join(folder, 'tokenizer/tokenizer.json'), 'utf8'))
const tokenizerConfig = JSON.parse(readFileSync(join(folder, 'tokenizer/tokenizer_config.json'), 'utf8'))
const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig)
const ids = tokenizer.encode('A large RED circle on a blue background, top left').ids
const want = parity.input_ids[0].slice(0, -2)
check(JSON.stringify(ids) === JSON.stringify(want), `tokenizer ${JSON.stringify(ids)}`)
check(
  JSON.stringify(tokenizer.encode('a reddish blob').ids) === '[3,2,2]',
  'tokenizer unknown words -> <unk>',
)

if (failures > 0) {
  console.error(`${failures} check(s) failed`)
  process.exit(1)
}
console.log('all checks passed')
