// What each node class does in the fake: loaders and encoders pass tokens along, latents carry their size,
// batch and seed, samplers step, VAEDecode turns a latent into one solid-colour frame per batch element
// (fakeImageColor(seed, i)), SaveImage writes PNGs the way SaveImage names them.

import path from 'node:path'
import type { Cached } from './graph.js'
import {
  colorFromInt,
  encodePng,
  type Folders,
  type Frame,
  fakeImageColor,
  imageSize,
  withTextChunks,
} from './images.js'
import { PyError, pyJsonDumps } from './python.js'

interface Latent {
  kind: 'latent'
  width: number
  height: number
  batch: number
  seed?: number
}

interface ImageBatch {
  kind: 'image'
  frames: Frame[]
}

export interface NodeContext {
  folders: Folders
  /** SaveImage's hidden inputs: the prompt's graph, and extra_data.extra_pnginfo */
  prompt: unknown
  extraPngInfo: unknown
  /** run the sampler's steps (progress, previews, interrupts) */
  sample(steps: number): Promise<void>
  /** throws when the process died meanwhile */
  check(): void
}

export async function computeNode(
  ctx: NodeContext,
  classType: string,
  inputs: Record<string, unknown>,
): Promise<Cached> {
  const num = (name: string) => Number(inputs[name])
  switch (classType) {
    case 'CheckpointLoaderSimple':
      return { outputs: [{ kind: 'ModelPatcher' }, { kind: 'CLIP' }, { kind: 'VAE' }] }
    case 'UNETLoader':
    case 'ModelSamplingAuraFlow':
      return { outputs: [{ kind: 'ModelPatcher' }] }
    case 'CLIPLoader':
    case 'DualCLIPLoader':
    case 'T5TokenizerOptions':
      return { outputs: [{ kind: 'CLIP' }] }
    case 'VAELoader':
      return { outputs: [{ kind: 'VAE' }] }
    case 'CLIPTextEncode':
    case 'FluxGuidance':
      return { outputs: [{ kind: 'Conditioning' }] }
    case 'EmptyLatentImage':
    case 'EmptySD3LatentImage': {
      const latent: Latent = {
        kind: 'latent',
        width: Math.floor(num('width') / 8) * 8,
        height: Math.floor(num('height') / 8) * 8,
        batch: num('batch_size'),
      }
      return { outputs: [latent] }
    }
    case 'KSampler':
    case 'KSamplerAdvanced': {
      const latent = inputs.latent_image as Latent
      const seed = classType === 'KSampler' ? num('seed') : num('noise_seed')
      const steps =
        classType === 'KSampler'
          ? num('steps')
          : Math.max(0, Math.min(num('end_at_step'), num('steps')) - num('start_at_step'))
      await ctx.sample(steps)
      return { outputs: [{ ...latent, seed }] }
    }
    case 'RandomNoise':
      return { outputs: [{ kind: 'Noise_RandomNoise', seed: num('noise_seed') }] }
    case 'CFGGuider':
    case 'BasicGuider':
      return { outputs: [{ kind: 'Guider' }] }
    case 'KSamplerSelect':
      return { outputs: [{ kind: 'KSAMPLER', name: inputs.sampler_name }] }
    case 'BasicScheduler':
      return { outputs: [{ kind: 'Tensor', steps: num('denoise') <= 0 ? 0 : num('steps') }] }
    case 'SamplerCustomAdvanced': {
      const latent = inputs.latent_image as Latent
      const steps = (inputs.sigmas as { steps: number }).steps
      await ctx.sample(steps)
      const out = { ...latent, seed: (inputs.noise as { seed: number }).seed }
      return { outputs: [out, out] }
    }
    case 'VAEDecode': {
      const latent = inputs.samples as Latent
      const frames: Frame[] = Array.from({ length: latent.batch }, (_, i) => ({
        width: latent.width,
        height: latent.height,
        color: latent.seed === undefined ? { r: 128, g: 128, b: 128 } : fakeImageColor(latent.seed, i),
      }))
      return { outputs: [{ kind: 'image', frames } satisfies ImageBatch] }
    }
    case 'EmptyImage': {
      const frames = Array.from({ length: num('batch_size') }, () => ({
        width: num('width'),
        height: num('height'),
        color: colorFromInt(num('color')),
      }))
      return { outputs: [{ kind: 'image', frames } satisfies ImageBatch] }
    }
    case 'ImageScaleBy': {
      const by = num('scale_by')
      const frames = (inputs.image as ImageBatch).frames.map((f) => ({
        ...f,
        width: Math.round(f.width * by),
        height: Math.round(f.height * by),
      }))
      return { outputs: [{ kind: 'image', frames } satisfies ImageBatch] }
    }
    case 'LoadImage': {
      const source = ctx.folders.get('input', '', String(inputs.image))
      if (!source)
        throw new PyError('FileNotFoundError', `[Errno 2] No such file or directory: '${inputs.image}'`)
      const size = await imageSize(source)
      const frames = [{ ...size, source }]
      return { outputs: [{ kind: 'image', frames } satisfies ImageBatch, { kind: 'Tensor' }] }
    }
    case 'SaveImage':
      return {
        outputs: [],
        ui: await save(ctx, inputs.images as ImageBatch, String(inputs.filename_prefix)),
      }
    default:
      throw new PyError('KeyError', `'${classType}'`)
  }
}

async function save(
  ctx: NodeContext,
  batch: ImageBatch,
  filenamePrefix: string,
): Promise<NonNullable<Cached['ui']>> {
  const first = batch.frames[0]
  const prefix = filenamePrefix
    .replaceAll('%width%', String(first?.width))
    .replaceAll('%height%', String(first?.height))
  const normalised = path.posix.normalize(prefix)
  const subfolder = path.posix.dirname(normalised) === '.' ? '' : path.posix.dirname(normalised)
  const filename = path.posix.basename(normalised)
  if (normalised.startsWith('/') || subfolder === '..' || subfolder.startsWith('../')) {
    throw new PyError('Exception', '**** ERROR: Saving image outside the output folder is not allowed.')
  }
  let counter = ctx.folders.nextCounter(subfolder, filename)
  const metadata: Record<string, string> = { prompt: pyJsonDumps(ctx.prompt) }
  if (ctx.extraPngInfo !== null && typeof ctx.extraPngInfo === 'object') {
    for (const [key, value] of Object.entries(ctx.extraPngInfo)) metadata[key] = pyJsonDumps(value)
  }
  const images: Array<{ filename: string; subfolder: string; type: string }> = []
  for (const [i, frame] of batch.frames.entries()) {
    const file = `${filename.replaceAll('%batch_num%', String(i))}_${String(counter).padStart(5, '0')}_.png`
    ctx.folders.put('output', subfolder, file, withTextChunks(await encodePng(frame), metadata))
    ctx.check()
    images.push({ filename: file, subfolder, type: 'output' })
    counter += 1
  }
  return { images }
}
