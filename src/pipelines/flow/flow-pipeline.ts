/**
 * Rectified-flow models in the FLUX / Chroma style: T5 tokenizer + encoder (with its padding mask), a DiT
 * transformer on 2×2-packed 16-channel latents with position ids, flow sampling with a time shift, and the
 * Flux VAE (latent /0.3611 + 0.1159). `generate` reads as its stages: validate → encode prompt → sigmas →
 * initial noise → sample → decode → RGB. Seeds follow the sd pipeline: image i uses seed + i for its initial
 * noise and its sampler noise.
 * @module
 */
import { errors } from '../../core/errors.js'
import type { ImageSettings } from '../../core/generation-request.js'
import {
  createNoiseSource,
  flowSampling,
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
import { decodeLatent, latentShapeFor, stepReporter, withOomFallback } from '../pipeline-support.js'
import { createSession, type Feed, type ModelSession, type SessionOptions } from '../session.js'
import { loadClipTokenizer, loadT5Tokenizer, type PromptTokenizer } from '../text/prompt-tokenizer.js'
import { encodeWithWeights } from '../text/weighted-encoding.js'
import { validateSettings } from '../validate.js'
import { type FlowTextEncoding, flowBatchedModel } from './flow-denoiser.js'

const PROMPT_CACHE_SIZE = 32
const REQUIRED_INPUTS = ['hidden_states', 'encoder_hidden_states', 'timestep', 'img_ids', 'txt_ids']

export class FlowPipeline implements ImagePipeline {
  readonly name: string
  readonly family = 'flow' as const
  readonly folder: ModelFolder
  readonly #tokenizer: PromptTokenizer
  readonly #textEncoder: ModelSession
  /** CLIP-L for FLUX's pooled input; absent for Chroma. */
  readonly #clip: { readonly tokenizer: PromptTokenizer; readonly encoder: ModelSession } | undefined
  readonly #transformer: ModelSession
  readonly #vae: ModelSession
  readonly #sampling: ModelSampling
  readonly #prompts = new LruCache<string, Promise<FlowTextEncoding>>(PROMPT_CACHE_SIZE)

  private constructor(
    folder: ModelFolder,
    tokenizer: PromptTokenizer,
    sessions: { textEncoder: ModelSession; transformer: ModelSession; vae: ModelSession },
    clip: { tokenizer: PromptTokenizer; encoder: ModelSession } | undefined,
  ) {
    this.folder = folder
    this.name = folder.manifest.name
    this.#tokenizer = tokenizer
    this.#textEncoder = sessions.textEncoder
    this.#clip = clip
    this.#transformer = sessions.transformer
    this.#vae = sessions.vae
    // The transformer takes σ itself as its time input (multiplier 1; it scales by 1000 inside).
    this.#sampling = flowSampling({ shift: folder.manifest.sampling.shift, multiplier: 1 })
  }

  static async load(folder: ModelFolder, options: SessionOptions = {}): Promise<FlowPipeline> {
    const { paths, manifest } = folder
    const tokenizer = await loadT5Tokenizer(paths.tokenizer, manifest.text.padding, manifest.text.maxLength)
    // Copy of the session opening in SdPipeline.load (src/pipelines/sd/sd-pipeline.ts); change both.
    const open = (file: string, label: string) => createSession(file, { ...options, label })
    const textEncoder = await open(paths.textEncoder, 'textEncoder')
    const transformer = await open(paths.denoiser, 'denoiser')
    const vae = await open(paths.vaeDecoder, 'vaeDecoder')
    for (const name of REQUIRED_INPUTS) {
      if (!transformer.hasInput(name)) {
        throw errors.MODEL_INVALID(
          `${transformer.file} has no input "${name}" (a flow transformer needs ${REQUIRED_INPUTS.join(', ')})`,
          {
            details: { file: transformer.file },
          },
        )
      }
    }
    let clip: { tokenizer: PromptTokenizer; encoder: ModelSession } | undefined
    if (transformer.hasInput('pooled_projections')) {
      if (!paths.clipTokenizer || !paths.clipTextEncoder) {
        throw errors.MODEL_INVALID(
          `${transformer.file} takes pooled_projections (a CLIP pooled embedding); name the CLIP tokenizer and ` +
            'encoder in pigment.json as components.clipTokenizer and components.clipTextEncoder',
          { field: 'components.clipTextEncoder', details: { file: transformer.file } },
        )
      }
      clip = {
        tokenizer: await loadClipTokenizer(paths.clipTokenizer),
        encoder: await open(paths.clipTextEncoder, 'clipTextEncoder'),
      }
    }
    return new FlowPipeline(folder, tokenizer, { textEncoder, transformer, vae }, clip)
  }

  // Copy of SdPipeline.generate (src/pipelines/sd/sd-pipeline.ts); change both.
  async generate(settings: ImageSettings, hooks: GenerateHooks = {}): Promise<RawImage[]> {
    const { sampler } = validateSettings(settings, this.folder.manifest)
    const { manifest } = this.folder
    return atNativeSize(settings, manifest, (native) =>
      withOomFallback(native, manifest, hooks.allowDownscaleOnOom === true, (s) =>
        this.#generate(s, sampler, hooks),
      ),
    )
  }

  // Copy of SdPipeline.#generate (src/pipelines/sd/sd-pipeline.ts); only the model differs.
  async #generate(settings: ImageSettings, sampler: string, hooks: GenerateHooks): Promise<RawImage[]> {
    const sampling = this.#sampling
    const { manifest } = this.folder
    const cond = await this.#encodePrompt(settings.prompt)
    const uncond = settings.cfg === 1 ? undefined : await this.#encodePrompt(settings.negativePrompt)
    const sigmas = samplerSigmas(sampler, settings.scheduler, settings.steps, sampling)
    const shape = latentShapeFor(settings, manifest)
    const batched = flowBatchedModel(this.#transformer, sampling, shape, cond, uncond, {
      guidance: manifest.sampling.guidance,
    })
    const model = guidedDenoiser({ model: batched, cfg: settings.cfg })
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
      images.push(await decodeLatent(this.#vae, z, shape, manifest, seed))
    }
    return images
  }

  /**
   * T5 states for a prompt (and CLIP's pooled embedding for FLUX), cached by text. With `tokens+eos+1pad`
   * (Chroma) the sequence is the prompt tokens, EOS and one PAD, with the PAD masked in the encoder and the
   * transformer seeing all of it (engine-spec §5).
   */
  #encodePrompt(text: string): Promise<FlowTextEncoding> {
    // Copy of the prompt cache in SdPipeline.#encodePrompt (src/pipelines/sd/sd-pipeline.ts).
    const cached = this.#prompts.get(text)
    if (cached) return cached
    const encoding = (async () => {
      const tokens = this.#tokenizer.tokenize(text)
      const states = await encodeWithWeights(this.#tokenizer, tokens, async ({ ids, mask }) => {
        const feeds: Record<string, Feed> = { input_ids: { data: ids, dims: [1, ids.length] } }
        if (this.#textEncoder.hasInput('attention_mask')) {
          feeds.attention_mask = { data: mask, dims: [1, mask.length] }
        }
        const outputName = this.#textEncoder.outputs[0].name
        return (await this.#textEncoder.run(feeds, [outputName]))[outputName]
      })
      if (!this.#clip) return { states }
      const clipIds = this.#clip.tokenizer.tokenize(text).ids
      const clipOut = await this.#clip.encoder.run(
        { input_ids: { data: clipIds, dims: [1, clipIds.length] } },
        ['pooler_output'],
      )
      return { states, pooled: clipOut.pooler_output }
    })()
    this.#prompts.set(text, encoding)
    encoding.catch(() => this.#prompts.delete(text))
    return encoding
  }

  async dispose(): Promise<void> {
    await Promise.all([
      this.#textEncoder.dispose(),
      this.#transformer.dispose(),
      this.#vae.dispose(),
      this.#clip?.encoder.dispose(),
    ])
  }
}
