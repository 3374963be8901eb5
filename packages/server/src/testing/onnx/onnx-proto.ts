// The subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto) that tests need to write
// models: the messages a graph of standard or custom operators with initializers is made of.
// Field numbers and enum values are the real ones, so the bytes are a valid ModelProto for any
// ONNX reader. Fields left out (training info, sparse tensors, sub-graph attributes, functions)
// are simply never written.

import protobuf from 'protobufjs';
import type { Type } from 'protobufjs';

/**
 * onnx.proto, trimmed. Syntax proto2 like the original, so repeated scalars without
 * `[packed = true]` are written unpacked exactly as the official serializer writes them.
 */
export const ONNX_PROTO_SUBSET = `
syntax = "proto2";
package onnx;

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6;
    INT64 = 7; STRING = 8; BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13;
    COMPLEX64 = 14; COMPLEX128 = 15; BFLOAT16 = 16;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
  optional string doc_string = 12;
}

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
  }
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  optional string doc_string = 13;
  optional AttributeType type = 20;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
  optional string domain = 7;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
`;

/** The message types of the subset, looked up once per parse. */
export interface OnnxProtoTypes {
  readonly ModelProto: Type;
  readonly GraphProto: Type;
  readonly NodeProto: Type;
  readonly AttributeProto: Type;
  readonly TensorProto: Type;
  readonly ValueInfoProto: Type;
}

/**
 * Parses the subset. Field names keep their snake_case spelling (`raw_data`, `op_type`), so
 * plain objects written with the onnx.proto names encode directly. Each call returns fresh,
 * unshared types (no module-level state); parsing takes about a millisecond.
 */
export function parseOnnxProto(): OnnxProtoTypes {
  const root = protobuf.parse(ONNX_PROTO_SUBSET, { keepCase: true }).root;
  return {
    ModelProto: root.lookupType('onnx.ModelProto'),
    GraphProto: root.lookupType('onnx.GraphProto'),
    NodeProto: root.lookupType('onnx.NodeProto'),
    AttributeProto: root.lookupType('onnx.AttributeProto'),
    TensorProto: root.lookupType('onnx.TensorProto'),
    ValueInfoProto: root.lookupType('onnx.ValueInfoProto'),
  };
}
