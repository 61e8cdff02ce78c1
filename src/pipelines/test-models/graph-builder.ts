/**
 * A small ONNX graph builder: declare inputs, initializers and nodes, then serialize with `toBytes()`.
 * Enough for the random-weight test models and the benchmark model; not a general-purpose exporter.
 * @module
 */
import {
  encodeOnnxModel,
  type OnnxAttribute,
  OnnxAttributeType,
  OnnxDataType,
  type OnnxDimension,
  type OnnxNode,
  type OnnxTensor,
  type OnnxTensorType,
  type OnnxValueInfo,
} from './onnx-proto.js'

/** A dimension: a fixed size, or a symbolic name (`dim_param`) such as 'batch'. */
export type Dim = number | string

export type AttributeValue =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly s: string }

export type TensorData = Float32Array | Int32Array | BigInt64Array

/** Opset 17: ReduceMean still takes `axes` as an attribute, Unsqueeze takes them as an input. */
export const OPSET_VERSION = 17
const IR_VERSION = 8

function valueInfo(name: string, type: OnnxTensorType, dims: readonly Dim[]): OnnxValueInfo {
  const dim: OnnxDimension[] = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }))
  return { name, type: { tensor_type: { elem_type: OnnxDataType[type], shape: { dim } } } }
}

function attribute(name: string, value: AttributeValue): OnnxAttribute {
  if ('i' in value) return { name, type: OnnxAttributeType.int, i: value.i }
  if ('f' in value) return { name, type: OnnxAttributeType.float, f: value.f }
  if ('ints' in value) return { name, type: OnnxAttributeType.ints, ints: [...value.ints] }
  if ('floats' in value) return { name, type: OnnxAttributeType.floats, floats: [...value.floats] }
  return { name, type: OnnxAttributeType.string, s: new TextEncoder().encode(value.s) }
}

function tensorType(data: TensorData): OnnxTensorType {
  if (data instanceof Float32Array) return 'float32'
  if (data instanceof Int32Array) return 'int32'
  return 'int64'
}

export class GraphBuilder {
  readonly #name: string
  readonly #inputs: OnnxValueInfo[] = []
  readonly #outputs: OnnxValueInfo[] = []
  readonly #initializers: OnnxTensor[] = []
  readonly #nodes: OnnxNode[] = []
  readonly #names = new Set<string>()
  #counter = 0

  constructor(name: string) {
    this.#name = name
  }

  /** Declares a graph input and returns its name. */
  input(name: string, type: OnnxTensorType, dims: readonly Dim[]): string {
    this.#claim(name)
    this.#inputs.push(valueInfo(name, type, dims))
    return name
  }

  /** Declares a graph output; some node must produce a value of that name (see `node`'s `outputs`). */
  output(name: string, type: OnnxTensorType, dims: readonly Dim[]): void {
    this.#outputs.push(valueInfo(name, type, dims))
  }

  /** Adds a constant tensor stored in the file and returns its name. */
  constant(name: string, dims: readonly number[], data: TensorData): string {
    const count = dims.reduce((a, b) => a * b, 1)
    if (count !== data.length) throw new RangeError(`${name}: ${data.length} values for dims [${dims}]`)
    this.#claim(name)
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    this.#initializers.push({
      name,
      dims: [...dims],
      data_type: OnnxDataType[tensorType(data)],
      raw_data: raw,
    })
    return name
  }

  /** An int64 constant, e.g. a shape for Reshape or axes for Unsqueeze. */
  int64s(values: readonly number[]): string {
    return this.constant(this.#fresh('i64'), [values.length], BigInt64Array.from(values.map(BigInt)))
  }

  /** A float32 constant of the given dims. */
  floats(dims: readonly number[], values: Float32Array | readonly number[]): string {
    return this.constant(this.#fresh('f32'), dims, Float32Array.from(values))
  }

  /** Adds a node; returns the name of its (first) output. Pass `outputs` to name a graph output. */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
    outputs: readonly string[] = [this.#fresh(opType.toLowerCase())],
  ): string {
    for (const out of outputs) this.#claim(out)
    this.#nodes.push({
      input: [...inputs],
      output: [...outputs],
      name: `${opType}_${this.#nodes.length}`,
      op_type: opType,
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    })
    return outputs[0]
  }

  /** Serializes the model (opset 17, IR version 8). */
  toBytes(): Uint8Array {
    return encodeOnnxModel({
      ir_version: IR_VERSION,
      producer_name: 'pigment',
      producer_version: '1',
      graph: {
        name: this.#name,
        node: this.#nodes,
        initializer: this.#initializers,
        input: this.#inputs,
        output: this.#outputs,
      },
      opset_import: [{ domain: '', version: OPSET_VERSION }],
    })
  }

  /** Number of weight values stored in initializers. */
  get parameterCount(): number {
    return this.#initializers.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0)
  }

  #fresh(prefix: string): string {
    let name: string
    do name = `${prefix}_${this.#counter++}`
    while (this.#names.has(name))
    return name
  }

  #claim(name: string): void {
    if (this.#names.has(name)) throw new Error(`graph ${this.#name}: the name "${name}" is used twice`)
    this.#names.add(name)
  }
}
