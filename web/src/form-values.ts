/**
 * The Generate form's values and how they become a native request body. Pure (no DOM), so the snippets in
 * "Show the API" and the tests use the same mapping as the Generate button.
 * @module
 */
import type { Asset, GenerationBody, Model } from './types.js'

export interface FormValues {
  readonly prompt: string
  readonly negativePrompt: string
  readonly model: string
  readonly width: number
  readonly height: number
  readonly steps: number
  readonly cfg: number
  readonly sampler: string
  readonly scheduler: string
  readonly seed: number
  /** Locked: the seed is sent; unlocked: the server picks one (and the form shows it afterwards). */
  readonly seedLocked: boolean
  readonly n: number
}

export const EMPTY_FORM: FormValues = {
  prompt: '',
  negativePrompt: '',
  model: '',
  width: 512,
  height: 512,
  steps: 20,
  cfg: 4,
  sampler: 'euler',
  scheduler: 'simple',
  seed: 0,
  seedLocked: false,
  n: 1,
}

export function toGenerationBody(values: FormValues): GenerationBody {
  return {
    prompt: values.prompt,
    ...(values.negativePrompt === '' ? {} : { negativePrompt: values.negativePrompt }),
    ...(values.model === '' ? {} : { model: values.model }),
    width: values.width,
    height: values.height,
    steps: values.steps,
    cfg: values.cfg,
    sampler: values.sampler,
    scheduler: values.scheduler,
    ...(values.seedLocked ? { seed: values.seed } : {}),
    n: values.n,
  }
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback
}

/** A model's manifest defaults over the current values (prompts and seed kept). */
export function withModelDefaults(values: FormValues, model: Model): FormValues {
  const d = model.defaults
  return {
    ...values,
    model: model.name,
    width: numberOr(d.width, values.width),
    height: numberOr(d.height, values.height),
    steps: numberOr(d.steps, values.steps),
    cfg: numberOr(d.cfg, values.cfg),
    sampler: stringOr(d.sampler, values.sampler),
    scheduler: stringOr(d.scheduler, values.scheduler),
  }
}

/** "Use these settings": an image's recorded parameters, its seed locked so the same image comes again. */
export function fromAsset(values: FormValues, asset: Asset): FormValues {
  const p = asset.parameters
  return {
    ...values,
    prompt: stringOr(p.prompt, values.prompt),
    negativePrompt: stringOr(p.negativePrompt, ''),
    model: asset.model,
    width: asset.width,
    height: asset.height,
    steps: numberOr(p.steps, values.steps),
    cfg: numberOr(p.cfg, values.cfg),
    sampler: stringOr(p.sampler, values.sampler),
    scheduler: stringOr(p.scheduler, values.scheduler),
    seed: asset.seed,
    seedLocked: true,
    n: 1,
  }
}

export interface ModelLimits {
  readonly minSize: number
  readonly maxSize: number
  readonly sizeMultiple: number
  readonly maxSteps: number
  readonly minCfg: number
  readonly maxCfg: number
}

/** A model's limits with the server's fallbacks (src/jobs/canonicalize.ts FALLBACK_LIMITS) filled in. */
export function limitsOf(model: Model | undefined): ModelLimits {
  const l = model?.limits ?? {}
  return {
    minSize: numberOr(l.minSize, 64),
    maxSize: numberOr(l.maxSize, 4096),
    sizeMultiple: numberOr(l.sizeMultiple, 8),
    maxSteps: numberOr(l.maxSteps, 150),
    minCfg: numberOr(l.minCfg, 0),
    maxCfg: numberOr(l.maxCfg, 100),
  }
}

/** Square and common aspect ratios, scaled to the model's default side and snapped to its size multiple. */
export function sizePresets(model: Model | undefined): { label: string; width: number; height: number }[] {
  const limits = limitsOf(model)
  const side = numberOr(model?.defaults.width, 512)
  const snap = (value: number) =>
    Math.min(
      limits.maxSize,
      Math.max(limits.minSize, Math.round(value / limits.sizeMultiple) * limits.sizeMultiple),
    )
  const ratios: [string, number, number][] = [
    ['1:1', 1, 1],
    ['4:3', 4, 3],
    ['3:4', 3, 4],
    ['16:9', 16, 9],
    ['9:16', 9, 16],
  ]
  return ratios.map(([label, w, h]) => {
    const scale = side / Math.sqrt(w * h)
    const width = snap(w * scale)
    const height = snap(h * scale)
    return { label: `${label} · ${width}×${height}`, width, height }
  })
}
