/**
 * The only module that imports onnxruntime-node. Sessions check every feed against the graph's declared inputs
 * before running (names, ranks, fixed dims), cast to the declared dtype (float32 / float16 / int64 / int32, and
 * a batch of equal timesteps to a scalar when the graph takes one), and turn onnxruntime failures into catalog
 * errors that name the model file and list what was fed. Each `run` is timed for the benchmark.
 * @module
 */
import { existsSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import ort from 'onnxruntime-node'
import { errors } from '../core/errors.js'
import { type Device, deviceFailure, executionProviders } from './device.js'
import { float16BitsToFloat32, float32ToFloat16Bits } from './float16.js'
import { GraphBuilder } from './test-models/graph-builder.js'

export type { Device } from './device.js'
export { CUDA_INSTALL_HINT } from './device.js'

/** A tensor handed to `run`: values in any numeric array; the session casts to what the graph declares. */
export interface Feed {
  readonly data: Float32Array | Int32Array | BigInt64Array | readonly number[]
  readonly dims: readonly number[]
  /**
   * The caller promises not to change `data` while it keeps feeding the same array (a prompt's encoding fed at
   * every step): the session then casts it once and reuses the tensor, instead of converting it per call.
   */
  readonly constant?: boolean
}

export interface OutputTensor {
  readonly data: Float32Array
  readonly dims: readonly number[]
}

export interface TensorSpec {
  readonly name: string
  readonly dtype: string
  /** Declared dims; strings are symbolic. onnxruntime reports both scalars and unknown shapes as []. */
  readonly dims: readonly (number | string)[]
}

export interface SessionRunEvent {
  readonly label: string
  readonly file: string
  /** Wall time of the onnxruntime `run` call alone. */
  readonly ms: number
  readonly inputs: readonly {
    readonly name: string
    readonly dtype: string
    readonly dims: readonly number[]
  }[]
}

export interface SessionOptions {
  readonly device?: Device
  /** Component name used in events and errors, e.g. 'unet'. */
  readonly label?: string
  readonly onRun?: (event: SessionRunEvent) => void
}

export interface ModelSession {
  readonly file: string
  readonly label: string
  readonly inputs: readonly TensorSpec[]
  readonly outputs: readonly TensorSpec[]
  hasInput(name: string): boolean
  input(name: string): TensorSpec | undefined
  run(
    feeds: Readonly<Record<string, Feed>>,
    outputNames?: readonly string[],
  ): Promise<Record<string, OutputTensor>>
  /** Calls and summed `run` milliseconds since the session was created. */
  readonly stats: { readonly calls: number; readonly runMs: number }
  dispose(): Promise<void>
}

const OOM_PATTERN = /failed to allocate|out of memory|bad_alloc|cudaErrorMemoryAllocation/i

function specOf(meta: ort.InferenceSession.ValueMetadata): TensorSpec {
  return meta.isTensor
    ? { name: meta.name, dtype: meta.type, dims: meta.shape }
    : { name: meta.name, dtype: 'non-tensor', dims: [] }
}

function castValues(values: Feed['data'], dtype: string, name: string, file: string): ort.Tensor.DataType {
  const read = (i: number) => Number(values[i])
  const n = values.length
  switch (dtype) {
    case 'float32':
      return values instanceof Float32Array ? values : Float32Array.from({ length: n }, (_, i) => read(i))
    case 'float16':
      return float32ToFloat16Bits(Float32Array.from({ length: n }, (_, i) => read(i)))
    case 'int64':
      return values instanceof BigInt64Array
        ? values
        : BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.round(read(i))))
    case 'int32':
      return values instanceof Int32Array
        ? values
        : Int32Array.from({ length: n }, (_, i) => Math.round(read(i)))
    default:
      throw errors.MODEL_INPUT_MISMATCH(
        `${file}: input "${name}" has dtype ${dtype}, which Pigment cannot feed`,
        {
          details: { file, input: name, dtype },
        },
      )
  }
}

/** Checks a feed against the declared dims; returns the dims to feed (a batch of equal values may become a scalar). */
function fitDims(
  spec: TensorSpec,
  feed: Feed,
  file: string,
): { dims: readonly number[]; data: Feed['data'] } {
  const mismatch = (why: string) =>
    errors.MODEL_INPUT_MISMATCH(
      `${file}: input "${spec.name}" ${why} (graph declares [${spec.dims.join(', ')}], got [${feed.dims.join(', ')}])`,
      { details: { file, input: spec.name, expected: spec.dims, actual: feed.dims } },
    )
  const count = feed.dims.reduce((a, b) => a * b, 1)
  if (count !== feed.data.length) throw mismatch(`has ${feed.data.length} values for its dims`)
  if (spec.dims.length === 0 && feed.dims.length === 1) {
    // Optimum exports the UNet timestep as a scalar shared by the whole batch.
    const first = Number(feed.data[0])
    if (!Array.from(feed.data, Number).every((v) => v === first))
      throw mismatch('takes one scalar for the batch')
    return { dims: [], data: feed.data.slice(0, 1) as Feed['data'] }
  }
  if (spec.dims.length === 1 && feed.dims.length === 0) return { dims: [1], data: feed.data }
  if (spec.dims.length !== 0 && spec.dims.length !== feed.dims.length) throw mismatch('has the wrong rank')
  spec.dims.forEach((d, i) => {
    if (typeof d === 'number' && d >= 0 && d !== feed.dims[i])
      throw mismatch(`has the wrong size in dim ${i}`)
  })
  return { dims: feed.dims, data: feed.data }
}

/** y = x + 1 over four floats: the smallest graph that makes a provider compile and run a kernel. */
function addOneGraph(): Uint8Array {
  const g = new GraphBuilder('device-probe')
  const x = g.input('x', 'float32', [4])
  g.node('Add', [x, g.floats([1], [1])], {}, ['y'])
  g.output('y', 'float32', [4])
  return g.toBytes()
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

function toFloat32(tensor: ort.Tensor): Float32Array {
  const data = tensor.data
  if (tensor.type === 'float16') return float16BitsToFloat32(data as Uint16Array)
  if (data instanceof Float32Array) return data
  return Float32Array.from(data as ArrayLike<number | bigint>, Number)
}

async function openSession(file: string, device: Device, label: string): Promise<ort.InferenceSession> {
  if (!existsSync(file)) {
    throw errors.MODEL_LOAD_FAILED(`model file ${file} does not exist (${label})`, { details: { file } })
  }
  try {
    return await openOrtSession(file, device)
  } catch (cause) {
    const message = (cause as Error).message ?? String(cause)
    throw (
      deviceFailure(device, message, cause) ??
      errors.MODEL_LOAD_FAILED(`cannot load ONNX model ${file}: ${message}`, { details: { file }, cause })
    )
  }
}

function openOrtSession(model: string | Uint8Array, device: Device): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: executionProviders(device),
    graphOptimizationLevel: 'all',
  }
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, options)
    : ort.InferenceSession.create(model, options)
}

/**
 * Opens and runs a one-node graph on `device`, so a server or worker started for a device that is not there
 * stops at startup with the remedy instead of failing every job. Resolves on the CPU at once.
 */
export async function probeDevice(device: Device): Promise<void> {
  if (device === 'cpu') return
  let session: ort.InferenceSession | undefined
  try {
    session = await openOrtSession(addOneGraph(), device)
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4])
    const y = (await session.run({ x })).y as ort.Tensor
    const values = Array.from(y.data as Float32Array)
    if (values.join() !== '2,3,4,5') throw new Error(`the probe graph computed [${values}] for x + 1`)
  } catch (cause) {
    const message = (cause as Error).message ?? String(cause)
    throw (
      deviceFailure(device, message, cause) ??
      errors.DEVICE_UNAVAILABLE(`device ${device} failed its probe: ${message}`, {
        details: { device },
        cause,
      })
    )
  } finally {
    await session?.release()
  }
}

export async function createSession(file: string, options: SessionOptions = {}): Promise<ModelSession> {
  const label = options.label ?? file
  const session = await openSession(file, options.device ?? 'cpu', label)
  const inputs = session.inputMetadata.map(specOf)
  const outputs = session.outputMetadata.map(specOf)
  const byName = new Map(inputs.map((spec) => [spec.name, spec]))
  const stats = { calls: 0, runMs: 0 }
  // the last tensor built from each constant feed, keyed by input name; replaced when another array comes
  const constants = new Map<
    string,
    { readonly source: Feed['data']; readonly dims: readonly number[]; readonly tensor: ort.Tensor }
  >()

  function tensorFor(spec: TensorSpec, feed: Feed): ort.Tensor {
    const cached = feed.constant === true ? constants.get(spec.name) : undefined
    if (cached !== undefined && cached.source === feed.data && sameDims(cached.dims, feed.dims)) {
      return cached.tensor
    }
    const fitted = fitDims(spec, feed, file)
    const data = castValues(fitted.data, spec.dtype, spec.name, file)
    const tensor = new ort.Tensor(spec.dtype as ort.Tensor.Type, data, fitted.dims)
    if (feed.constant === true) constants.set(spec.name, { source: feed.data, dims: [...feed.dims], tensor })
    return tensor
  }

  async function run(
    feeds: Readonly<Record<string, Feed>>,
    outputNames: readonly string[] = outputs.map((o) => o.name),
  ): Promise<Record<string, OutputTensor>> {
    for (const name of Object.keys(feeds)) {
      if (!byName.has(name)) {
        throw errors.MODEL_INPUT_MISMATCH(
          `${file} has no input "${name}" (inputs: ${[...byName.keys()].join(', ')})`,
          {
            details: { file, input: name },
          },
        )
      }
    }
    const ortFeeds: Record<string, ort.Tensor> = {}
    for (const spec of inputs) {
      const feed = feeds[spec.name]
      if (feed === undefined) {
        throw errors.MODEL_INPUT_MISMATCH(`${file}: missing input "${spec.name}" [${spec.dims.join(', ')}]`, {
          details: { file, input: spec.name, expected: spec.dims },
        })
      }
      ortFeeds[spec.name] = tensorFor(spec, feed)
    }
    const fed = inputs.map((s) => ({ name: s.name, dtype: s.dtype, dims: [...ortFeeds[s.name].dims] }))
    const started = performance.now()
    let result: ort.InferenceSession.OnnxValueMapType
    try {
      result = await session.run(ortFeeds, outputNames as string[])
    } catch (cause) {
      const message = (cause as Error).message ?? String(cause)
      const listing = fed.map((f) => `${f.name}: ${f.dtype}[${f.dims.join(', ')}]`).join('; ')
      const factory = OOM_PATTERN.test(message) ? errors.MODEL_OUT_OF_MEMORY : errors.MODEL_RUN_FAILED
      throw factory(`${label} (${file}) failed: ${message} — inputs ${listing}`, {
        details: { file, inputs: fed },
        cause,
      })
    }
    const ms = performance.now() - started
    stats.calls++
    stats.runMs += ms
    options.onRun?.({ label, file, ms, inputs: fed })
    const out: Record<string, OutputTensor> = {}
    for (const name of outputNames) {
      const tensor = result[name] as ort.Tensor
      out[name] = { data: toFloat32(tensor), dims: [...tensor.dims] }
    }
    return out
  }

  return {
    file,
    label,
    inputs,
    outputs,
    hasInput: (name) => byName.has(name),
    input: (name) => byName.get(name),
    run,
    stats,
    dispose: () => {
      constants.clear()
      return session.release()
    },
  }
}
