import protobuf from 'protobufjs';

/**
 * The part of onnx.proto Skywatch reads and writes, declared here so the project needs no generated
 * code. Field numbers follow the ONNX IR specification. Unknown fields are dropped on decode, so only
 * models whose fields are all declared here round-trip exactly (every ordinary inference model does).
 */
const SCHEMA = `
syntax = "proto3";
package onnx;
message AttributeProto {
  string name = 1; string ref_attr_name = 21; string doc_string = 13; int32 type = 20;
  float f = 2; int64 i = 3; bytes s = 4; TensorProto t = 5; GraphProto g = 6;
  repeated float floats = 7; repeated int64 ints = 8; repeated bytes strings = 9;
  repeated TensorProto tensors = 10; repeated GraphProto graphs = 11;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }
message NodeProto {
  repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4;
  string domain = 7; repeated AttributeProto attribute = 5; string doc_string = 6;
}
message StringStringEntryProto { string key = 1; string value = 2; }
message TensorProto {
  repeated int64 dims = 1; int32 data_type = 2; repeated float float_data = 4; repeated int32 int32_data = 5;
  repeated bytes string_data = 6; repeated int64 int64_data = 7; string name = 8; string doc_string = 12;
  bytes raw_data = 9; repeated StringStringEntryProto external_data = 13; int32 data_location = 14;
  repeated double double_data = 10; repeated uint64 uint64_data = 11;
}
message TensorShapeProto {
  message Dimension { int64 dim_value = 1; string dim_param = 2; string denotation = 3; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  Tensor tensor_type = 1; string denotation = 6;
}
message GraphProto {
  repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5; string doc_string = 10;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; repeated ValueInfoProto value_info = 13;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message ModelProto {
  int64 ir_version = 1; repeated OperatorSetIdProto opset_import = 8; string producer_name = 2;
  string producer_version = 3; string domain = 4; int64 model_version = 5; string doc_string = 6;
  GraphProto graph = 7; repeated StringStringEntryProto metadata_props = 14;
}
`;

export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface Dim { dimValue?: number; dimParam?: string }
export interface ValueInfo { name: string; type?: { tensorType?: { elemType?: number; shape?: { dim?: Dim[] } } } }
export interface Tensor { name?: string; dims?: number[]; dataType?: number; rawData?: Uint8Array; floatData?: number[]; int32Data?: number[]; int64Data?: number[] }
export interface Attribute { name: string; type?: number; f?: number; i?: number; s?: Uint8Array; t?: Tensor; floats?: number[]; ints?: number[] }
export interface OnnxNode { input?: string[]; output?: string[]; name?: string; opType: string; domain?: string; attribute?: Attribute[] }
export interface Graph { node?: OnnxNode[]; name?: string; initializer?: Tensor[]; input?: ValueInfo[]; output?: ValueInfo[]; valueInfo?: ValueInfo[]; docString?: string }
export interface Model { irVersion?: number; opsetImport?: Array<{ domain?: string; version?: number }>; producerName?: string; producerVersion?: string; graph?: Graph; docString?: string; modelVersion?: number; domain?: string; metadataProps?: Array<{ key: string; value: string }> }

const root = protobuf.parse(SCHEMA, { keepCase: false }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

/** Bytes to a plain object (int64 as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array): Model {
  const message = ModelProto.decode(bytes);
  return ModelProto.toObject(message, { longs: Number, enums: Number, bytes: Uint8Array as unknown as typeof String, arrays: true, defaults: false }) as Model;
}

export function encodeModel(model: Model): Uint8Array {
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`invalid ONNX model object: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
