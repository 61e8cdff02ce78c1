/**
 * Writes a tiny random-weight model folder, deterministically from a seed, for tests and for trying an
 * integration without real weights (`pigment models make-test-model`).
 * - `sd`: the Optimum Stable Diffusion layout with NO manifest, so loading exercises layout inference.
 * - `flow`: a `pigment.json` folder with a T5-style encoder and a FLUX/Chroma-style transformer.
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fluxTransformerGraph, t5EncoderGraph } from './flow-graphs.js'
import { clipTextEncoderGraph, type TimestepVariant, unetGraph, vaeDecoderGraph } from './sd-graphs.js'
import { SeededWeights } from './seeded-weights.js'
import { clipTokenizerFiles, t5TokenizerJson } from './tokenizer-files.js'

export type TestModelFamily = 'sd' | 'flow'

export interface TestModelOptions {
  readonly family: TestModelFamily
  /** Folder to write (created; existing files of the same names are replaced). */
  readonly out: string
  readonly seed?: number
  /** sd: how the UNet declares `timestep` (default Optimum's float32 scalar). */
  readonly timestep?: TimestepVariant
  /** sd: dtype of the CLIP `input_ids` (default int64; legacy exports use int32). */
  readonly inputIds?: 'int64' | 'int32'
  /** flow: a FLUX-style transformer with `pooled_projections` (plus a CLIP tokenizer and encoder) and `guidance`. */
  readonly flux?: boolean
  /** sd: UNet size; the defaults make a model well under 1 MB. The benchmark asks for a large one. */
  readonly unet?: { readonly hidden?: number; readonly blocks?: number; readonly patch?: number }
}

export interface WrittenTestModel {
  readonly dir: string
  /** Paths relative to `dir`. */
  readonly files: readonly string[]
  readonly bytes: number
}

const README = (family: string) =>
  `# Pigment test model (${family})\n\nRandom weights written by \`pigment models make-test-model\`. It produces ` +
  'noise-like images; it exists to test integrations without downloading a real model.\n'

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

function sdFiles(o: TestModelOptions, w: SeededWeights): Record<string, string | Uint8Array> {
  const tokenizer = clipTokenizerFiles()
  const graph = {
    vocabSize: tokenizer.vocabSize,
    textDim: 32,
    hidden: o.unet?.hidden ?? 32,
    blocks: o.unet?.blocks ?? 1,
    patch: o.unet?.patch ?? 1,
    timestep: o.timestep ?? 'scalar',
    inputIds: o.inputIds ?? 'int64',
    latentChannels: 4,
  } as const
  const files: Record<string, string | Uint8Array> = {
    'model_index.json': json({
      _class_name: 'StableDiffusionPipeline',
      _diffusers_version: '0.30.0',
      scheduler: ['diffusers', 'EulerDiscreteScheduler'],
      text_encoder: ['optimum', 'ORTModelTextEncoder'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      unet: ['optimum', 'ORTModelUnet'],
      vae_decoder: ['optimum', 'ORTModelVaeDecoder'],
    }),
    'scheduler/scheduler_config.json': json({
      _class_name: 'EulerDiscreteScheduler',
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      num_train_timesteps: 1000,
      prediction_type: 'epsilon',
      steps_offset: 1,
    }),
    'text_encoder/model.onnx': clipTextEncoderGraph(w, graph),
    'unet/model.onnx': unetGraph(w, graph),
    'vae_decoder/model.onnx': vaeDecoderGraph(w, 4, 0.2),
    'README.md': README('sd'),
  }
  for (const [name, text] of Object.entries(tokenizer.files)) files[`tokenizer/${name}`] = text
  return files
}

function flowFiles(o: TestModelOptions, w: SeededWeights): Record<string, string | Uint8Array> {
  const tokenizer = t5TokenizerJson()
  const flux = o.flux === true
  const graph = {
    vocabSize: tokenizer.vocabSize,
    textDim: 32,
    hidden: 48,
    pooledDim: flux ? 32 : 0,
    guidance: flux,
  }
  const clipComponents = flux
    ? { clipTokenizer: 'clip_tokenizer', clipTextEncoder: 'clip_text_encoder/model.onnx' }
    : {}
  const files: Record<string, string | Uint8Array> = {
    'pigment.json': json({
      name: flux ? 'pigment-test-flux' : 'pigment-test-flow',
      family: 'flow',
      prediction: 'flow',
      sampling: flux ? { shift: 1, guidance: 3.5 } : { shift: 1 },
      components: {
        tokenizer: 'tokenizer',
        textEncoder: 'text_encoder/model.onnx',
        denoiser: 'transformer/model.onnx',
        vaeDecoder: 'vae_decoder/model.onnx',
        ...clipComponents,
      },
      latent: { channels: 16, downscale: 8, scalingFactor: 0.3611, shiftFactor: 0.1159 },
      text: flux ? { maxLength: 32, padding: 'max_length' } : { maxLength: 128, padding: 'tokens+eos+1pad' },
      defaults: { steps: 4, cfg: 3.5, sampler: 'euler', scheduler: 'beta', width: 128, height: 128 },
      limits: { minSize: 16, maxSize: 1024, sizeMultiple: 16, maxSteps: 100, minCfg: 0, maxCfg: 30 },
      license: 'Apache-2.0',
    }),
    'text_encoder/model.onnx': t5EncoderGraph(w, graph),
    'transformer/model.onnx': fluxTransformerGraph(w, graph),
    'vae_decoder/model.onnx': vaeDecoderGraph(w, 16, 0.4),
    'tokenizer/tokenizer.json': tokenizer.json,
    'tokenizer/tokenizer_config.json': json({ eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>' }),
    'README.md': README(flux ? 'flow, FLUX-style' : 'flow'),
  }
  if (flux) {
    const clip = clipTokenizerFiles()
    for (const [name, text] of Object.entries(clip.files)) files[`clip_tokenizer/${name}`] = text
    files['clip_text_encoder/model.onnx'] = clipTextEncoderGraph(w, {
      vocabSize: clip.vocabSize,
      textDim: 32,
      hidden: 32,
      blocks: 1,
      patch: 1,
      timestep: 'scalar',
      inputIds: 'int64',
      latentChannels: 4,
    })
  }
  return files
}

export async function writeTestModel(options: TestModelOptions): Promise<WrittenTestModel> {
  const weights = new SeededWeights(options.seed ?? 0)
  const files = options.family === 'sd' ? sdFiles(options, weights) : flowFiles(options, weights)
  let bytes = 0
  for (const [name, content] of Object.entries(files)) {
    const path = join(options.out, name)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, content)
    bytes += typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength
  }
  return { dir: options.out, files: Object.keys(files), bytes }
}
