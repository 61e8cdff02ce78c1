/**
 * Stable Diffusion 1.x / 2.x (and SD-Turbo) on an Optimum ONNX export: CLIP text encoder, UNet (eps or v),
 * VAE decoder. `generate` reads as its stages: validate → encode prompt → sigmas → initial noise → sample →
 * decode → RGB. Seeds: image i uses seed + i for its initial noise (`torch.randn` on CPU, ComfyUI layout) and
 * for its sampler noise (a second generator with the same seed, as ComfyUI does when sampling on the CPU), so
 * image i of a batch equals a single run at seed + i.
 * @module
 */
import { errors } from '../../core/errors.js'
import type { ImageSettings } from '../../core/generation-request.js'
import {
  createNoiseSource,
  discreteSampling,
  guidedDenoiser,
  type ModelSampling,
  maxDenoise,
  sample,
  samplerSigmas,
  torchRandn,
} from '../../engine/index.js'
import { LruCache } from '../lru-cache.js'
import type { ModelFolder } from '../model-folder.js'
import { atNativeSize } from '../native-size.js'
import type { GenerateHooks, ImagePipeline, RawImage } from '../pipeline.js'
import {
  decodeLatent,
  type LatentShape,
  latentShapeFor,
  stepReporter,
  withOomFallback,
} from '../pipeline-support.js'
import { createSession, type ModelSession, type SessionOptions } from '../session.js'
import { loadClipTokenizer, type PromptTokenizer } from '../text/prompt-tokenizer.js'
import { encodeWithWeights } from '../text/weighted-encoding.js'
import { validateSettings } from '../validate.js'
import { sdBatchedModel, type TextEncoding } from './sd-denoiser.js'

const PROMPT_CACHE_SIZE = 32

export class SdPipeline implements ImagePipeline {
  readonly name: string
  readonly family = 'sd' as const
  readonly folder: ModelFolder
  readonly #tokenizer: PromptTokenizer
  readonly #textEncoder: ModelSession
  readonly #unet: ModelSession
  readonly #vae: ModelSession
  readonly #sampling: ModelSampling
  readonly #prompts = new LruCache<string, Promise<TextEncoding>>(PROMPT_CACHE_SIZE)

  private constructor(
    folder: ModelFolder,
    tokenizer: PromptTokenizer,
    sessions: { textEncoder: ModelSession; unet: ModelSession; vae: ModelSession },
  ) {
    this.folder = folder
    this.name = folder.manifest.name
    this.#tokenizer = tokenizer
    this.#textEncoder = sessions.textEncoder
    this.#unet = sessions.unet
    this.#vae = sessions.vae
    const { sampling, prediction } = folder.manifest
    this.#sampling = discreteSampling({
      betaStart: sampling.betaStart,
      betaEnd: sampling.betaEnd,
      betaSchedule: sampling.betaSchedule,
      prediction: prediction === 'v' ? 'v' : 'eps',
    })
  }

  static async load(folder: ModelFolder, options: SessionOptions = {}): Promise<SdPipeline> {
    const { paths, manifest } = folder
    const tokenizer = await loadClipTokenizer(paths.tokenizer, manifest.text.maxLength)
    // Copy of the session opening in FlowPipeline.load (src/pipelines/flow/flow-pipeline.ts); change both.
    const open = (file: string, label: string) => createSession(file, { ...options, label })
    const textEncoder = await open(paths.textEncoder, 'textEncoder')
    const unet = await open(paths.denoiser, 'denoiser')
    const vae = await open(paths.vaeDecoder, 'vaeDecoder')
    checkSignatures(folder, textEncoder, unet)
    return new SdPipeline(folder, tokenizer, { textEncoder, unet, vae })
  }

  // Copy of FlowPipeline.generate (src/pipelines/flow/flow-pipeline.ts); change both.
  async generate(settings: ImageSettings, hooks: GenerateHooks = {}): Promise<RawImage[]> {
    const { sampler } = validateSettings(settings, this.folder.manifest)
    const { manifest } = this.folder
    return atNativeSize(settings, manifest, (native) =>
      withOomFallback(native, manifest, hooks.allowDownscaleOnOom === true, (s) =>
        this.#generate(s, sampler, hooks),
      ),
    )
  }

  // Copy of FlowPipeline.#generate (src/pipelines/flow/flow-pipeline.ts); only the model differs.
  async #generate(settings: ImageSettings, sampler: string, hooks: GenerateHooks): Promise<RawImage[]> {
    const sampling = this.#sampling
    const cond = await this.#encodePrompt(settings.prompt)
    // cfg = 1 drops the negative prompt entirely: one batch-1 UNet call per evaluation (ComfyUI's shortcut).
    const uncond = settings.cfg === 1 ? undefined : await this.#encodePrompt(settings.negativePrompt)
    const sigmas = samplerSigmas(sampler, settings.scheduler, settings.steps, sampling)
    const shape = latentShapeFor(settings, this.folder.manifest)
    const model = guidedDenoiser({
      model: sdBatchedModel(this.#unet, sampling, shape, cond, uncond),
      cfg: settings.cfg,
    })
    const images: RawImage[] = []
    for (let i = 0; i < settings.n; i++) {
      hooks.signal?.throwIfAborted()
      const seed = settings.seed + i
      const noise = torchRandn(seed, shape)
      const x = sampling.noiseScaling(sigmas[0], noise, null, maxDenoise(sampling, sigmas[0]))
      const z = await sample(sampler, model, x, sigmas, {
        sampling,
        noise: createNoiseSource(seed),
        signal: hooks.signal,
        onStep: stepReporter(hooks, i, settings.n, shape),
      })
      images.push(await decodeLatent(this.#vae, z, shape, this.folder.manifest, seed))
    }
    return images
  }

  /** CLIP `last_hidden_state` for a prompt, cached by prompt text. */
  #encodePrompt(text: string): Promise<TextEncoding> {
    // Copy of the prompt cache in FlowPipeline.#encodePrompt (src/pipelines/flow/flow-pipeline.ts).
    const cached = this.#prompts.get(text)
    if (cached) return cached
    const encoding = (async () => {
      const tokens = this.#tokenizer.tokenize(text)
      return encodeWithWeights(this.#tokenizer, tokens, async ({ ids }) => {
        const out = await this.#textEncoder.run({ input_ids: { data: ids, dims: [1, ids.length] } }, [
          'last_hidden_state',
        ])
        return out.last_hidden_state
      })
    })()
    this.#prompts.set(text, encoding)
    encoding.catch(() => this.#prompts.delete(text))
    return encoding
  }

  async dispose(): Promise<void> {
    await Promise.all([this.#textEncoder.dispose(), this.#unet.dispose(), this.#vae.dispose()])
  }
}

/** Catches a mismatched export at load time instead of at the first step. */
function checkSignatures(folder: ModelFolder, textEncoder: ModelSession, unet: ModelSession): void {
  const expect = (session: ModelSession, names: string[]) => {
    for (const name of names) {
      if (!session.hasInput(name) && !session.outputs.some((o) => o.name === name)) {
        throw errors.MODEL_INVALID(
          `${session.file} has no "${name}"; an sd ${session.label} needs ${names.join(', ')}`,
          { details: { file: session.file } },
        )
      }
    }
  }
  expect(textEncoder, ['input_ids', 'last_hidden_state'])
  expect(unet, ['sample', 'timestep', 'encoder_hidden_states', 'out_sample'])
  const channels = unet.input('sample')?.dims[1]
  if (typeof channels === 'number' && channels !== folder.manifest.latent.channels) {
    throw errors.MODEL_INVALID(
      `${unet.file} takes ${channels}-channel samples; the model expects ${folder.manifest.latent.channels}`,
      { details: { file: unet.file } },
    )
  }
  const textDim = textEncoder.outputs.find((o) => o.name === 'last_hidden_state')?.dims[2]
  const unetDim = unet.input('encoder_hidden_states')?.dims[2]
  if (typeof textDim === 'number' && typeof unetDim === 'number' && textDim !== unetDim) {
    throw errors.MODEL_INVALID(
      `${textEncoder.file} gives ${textDim}-wide states but ${unet.file} takes ${unetDim}`,
      { details: { file: unet.file } },
    )
  }
}

export type { LatentShape }
