/**
 * The subset of `onnx.proto` (onnx/onnx, IR version 8) that Pigment needs to write small models, declared
 * with protobufjs. Field numbers follow the official schema; everything not listed is simply never written.
 * @module
 */
import protobuf from 'protobufjs'

const ONNX_SUBSET = `
syntax = "proto2";
package onnx;

message AttributeProto {
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  repeated float floats = 7;
  repeated int64 ints = 8;
  optional int32 type = 20;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  optional Tensor tensor_type = 1;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`

/** `TensorProto.DataType` values. */
export const OnnxDataType = { float32: 1, int32: 6, int64: 7, float16: 10 } as const
export type OnnxTensorType = keyof typeof OnnxDataType

/** `AttributeProto.AttributeType` values. */
export const OnnxAttributeType = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const

export interface OnnxDimension {
  readonly dim_value?: number
  readonly dim_param?: string
}

export interface OnnxValueInfo {
  readonly name: string
  readonly type: {
    readonly tensor_type: { readonly elem_type: number; readonly shape: { readonly dim: OnnxDimension[] } }
  }
}

export interface OnnxAttribute {
  readonly name: string
  readonly type: number
  readonly f?: number
  readonly i?: number
  readonly s?: Uint8Array
  readonly floats?: number[]
  readonly ints?: number[]
}

export interface OnnxNode {
  readonly input: string[]
  readonly output: string[]
  readonly name: string
  readonly op_type: string
  readonly attribute: OnnxAttribute[]
}

export interface OnnxTensor {
  readonly name: string
  readonly dims: number[]
  readonly data_type: number
  readonly raw_data: Uint8Array
}

export interface OnnxGraph {
  readonly name: string
  readonly node: OnnxNode[]
  readonly initializer: OnnxTensor[]
  readonly input: OnnxValueInfo[]
  readonly output: OnnxValueInfo[]
}

export interface OnnxModel {
  readonly ir_version: number
  readonly producer_name: string
  readonly producer_version: string
  readonly graph: OnnxGraph
  readonly opset_import: { readonly domain: string; readonly version: number }[]
}

let modelType: protobuf.Type | undefined

function modelProto(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto')
  return modelType
}

/** Serializes a model to the bytes of a `.onnx` file. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const type = modelProto()
  return type.encode(type.fromObject(model)).finish()
}
