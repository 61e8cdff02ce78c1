/**
 * `pigment generate "prompt"`: runs a model in-process and writes the images. Settings the user leaves out come
 * from the model's manifest; a missing seed is drawn at random and reported. Paths go to stdout (one per line),
 * progress and messages to stderr.
 * @module
 */
import { randomInt } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import cliProgress from 'cli-progress'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { DEVICES, type Device } from '../../core/devices.js'
import { errors, isPigmentError } from '../../core/errors.js'
import type { ImageSettings, OutputFormat } from '../../core/generation-request.js'
import { encodeImage } from '../../pipelines/encode/index.js'
import { loadPipeline } from '../../pipelines/load-pipeline.js'
import { defaultModelDir } from '../../pipelines/model-registry.js'
import type { PipelineProgress, RawImage } from '../../pipelines/pipeline.js'

export interface GenerateOptions {
  readonly negative?: string
  readonly steps?: number
  readonly cfg?: number
  readonly sampler?: string
  readonly scheduler?: string
  readonly size?: { readonly width: number; readonly height: number }
  readonly width?: number
  readonly height?: number
  readonly seed?: number
  readonly n?: number
  readonly format?: OutputFormat
  readonly quality?: number
  readonly model?: string
  readonly device?: Device
  readonly out?: string
}

export interface GenerateIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean }
}

const PROCESS_IO: GenerateIo = { stdout: process.stdout, stderr: process.stderr }
const EXTENSIONS: Readonly<Record<OutputFormat, string>> = { png: 'png', jpeg: 'jpg', webp: 'webp' }

const integer = (min: number, max: number) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`)
  return n
}

function parseNumber(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number')
  return n
}

function parseSize(value: string): { width: number; height: number } {
  const match = /^(\d+)[x×](\d+)$/i.exec(value.trim())
  if (!match) throw new InvalidArgumentError('must look like 512x768 (width x height)')
  return { width: Number(match[1]), height: Number(match[2]) }
}

function parseFormat(value: string): OutputFormat {
  const format = value.toLowerCase() === 'jpg' ? 'jpeg' : value.toLowerCase()
  if (format !== 'png' && format !== 'jpeg' && format !== 'webp')
    throw new InvalidArgumentError('must be png, jpg or webp')
  return format
}

function modelDirOrDefault(model: string | undefined): string {
  if (model !== undefined) return model
  const fallback = defaultModelDir()
  if (fallback) return fallback
  throw errors.MODEL_NOT_CONFIGURED(
    'no model configured; pass --model DIR or run `pigment models make-test-model --family sd --out DIR`',
    { field: 'model' },
  )
}

/** A path in `dir` that does not exist yet: pigment-<seed>.<ext>, then pigment-<seed>-1.<ext>, … */
function freshPath(dir: string, seed: number, extension: string): string {
  let path = join(dir, `pigment-${seed}.${extension}`)
  for (let k = 1; existsSync(path); k++) path = join(dir, `pigment-${seed}-${k}.${extension}`)
  return path
}

function progressBar(io: GenerateIo, images: number): { update(p: PipelineProgress): void; stop(): void } {
  if (!io.stderr.isTTY) return { update() {}, stop() {} }
  const bar = new cliProgress.SingleBar(
    { stream: io.stderr, format: 'image {image}/{images} {bar} step {step}/{steps}', hideCursor: true },
    cliProgress.Presets.shades_classic,
  )
  let started = false
  return {
    update(p) {
      const total = p.images * p.steps
      if (!started) {
        bar.start(total, 0, { image: 1, images, step: 0, steps: p.steps })
        started = true
      }
      bar.setTotal(total)
      bar.update(p.image * p.steps + p.step, {
        image: p.image + 1,
        images: p.images,
        step: p.step,
        steps: p.steps,
      })
    },
    stop() {
      if (started) bar.stop()
    },
  }
}

/** Generates and writes the images; returns the written paths. */
export async function runGenerate(
  prompt: string,
  options: GenerateOptions,
  io: GenerateIo = PROCESS_IO,
): Promise<string[]> {
  const pipeline = await loadPipeline(modelDirOrDefault(options.model), { device: options.device ?? 'cpu' })
  try {
    const { manifest } = pipeline.folder
    const defaults = manifest.defaults
    const seed = options.seed ?? randomInt(0, 2 ** 32)
    if (options.seed === undefined) io.stderr.write(`seed: ${seed}\n`)
    const settings: ImageSettings = {
      prompt,
      negativePrompt: options.negative ?? defaults.negativePrompt,
      model: manifest.name,
      width: options.width ?? options.size?.width ?? defaults.width,
      height: options.height ?? options.size?.height ?? defaults.height,
      steps: options.steps ?? defaults.steps,
      cfg: options.cfg ?? defaults.cfg,
      sampler: options.sampler ?? defaults.sampler,
      scheduler: options.scheduler ?? defaults.scheduler,
      seed,
      n: options.n ?? 1,
    }
    const bar = progressBar(io, settings.n)
    let images: RawImage[]
    try {
      images = await pipeline.generate(settings, { onProgress: (p) => bar.update(p) })
    } finally {
      bar.stop()
    }
    const format = options.format ?? 'png'
    const dir = resolve(options.out ?? '.')
    await mkdir(dir, { recursive: true })
    const paths: string[] = []
    for (const image of images) {
      const bytes = await encodeImage(image, {
        format,
        ...(options.quality === undefined ? {} : { quality: options.quality }),
        parameters: { ...settings, seed: image.seed, width: image.width, height: image.height },
      })
      const path = freshPath(dir, image.seed, EXTENSIONS[format])
      await writeFile(path, bytes)
      io.stdout.write(`${path}\n`)
      paths.push(path)
    }
    return paths
  } finally {
    await pipeline.dispose()
  }
}

export function addGenerateCommand(program: Command, io: GenerateIo = PROCESS_IO): Command {
  program
    .command('generate')
    .description('generate images with a local model; prints the written paths')
    .argument('<prompt>', 'what to draw')
    .option('--negative <text>', 'negative prompt (default: the model’s)')
    .option('--steps <n>', 'sampling steps', integer(1, 1000))
    .option('--cfg <scale>', 'classifier-free guidance scale (1 = no negative pass)', parseNumber)
    .option('--sampler <name>', 'sampler, e.g. euler, euler_ancestral, dpmpp_2m')
    .option('--scheduler <name>', 'schedule, e.g. normal, karras, simple, beta')
    .option('--size <WxH>', 'image size, e.g. 512x768', parseSize)
    .option('--width <px>', 'image width (overrides --size)', integer(1, 16384))
    .option('--height <px>', 'image height (overrides --size)', integer(1, 16384))
    .option(
      '--seed <n>',
      'seed of the first image; image i uses seed + i (default: random)',
      integer(0, Number.MAX_SAFE_INTEGER),
    )
    .option('-n, --n <count>', 'number of images', integer(1, 64))
    .addOption(new Option('--format <format>', 'png, jpg or webp').argParser(parseFormat))
    .option('--quality <q>', 'JPEG/WebP quality', integer(1, 100))
    .option('--model <name|path>', 'model name (in the model cache) or folder')
    .addOption(new Option('--device <device>', 'execution device').choices(DEVICES).default('cpu'))
    .option('-o, --out <dir>', 'output folder', '.')
    .action(async (prompt: string, options: GenerateOptions) => {
      try {
        await runGenerate(prompt, options, io)
      } catch (error) {
        if (!isPigmentError(error)) throw error
        io.stderr.write(`pigment: ${error.message}\n`)
        process.exitCode = 1
      }
    })
  return program
}
