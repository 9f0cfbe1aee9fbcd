/**
 * The ONNX protobuf schema, as far as our tools write it, and the only importer of protobufjs.
 *
 * The schema is a TypeScript string rather than an onnx.proto file because the build copies only
 * .ts/.json into dist/, so a `.proto` next to this file would be missing at run time.
 */
import { parse, type Type } from 'protobufjs';

/**
 * A hand-written SUBSET of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
 *
 * Only the messages and fields that builder.ts writes (plus what a test needs to read back) are
 * declared. That is enough because protobuf decoders skip fields they do not know, and every
 * field here is `optional`/`repeated` in onnx.proto, so leaving the rest out still yields a
 * valid ModelProto. Field numbers, types and labels are those of onnx.proto (proto2), which
 * matters for the wire format: e.g. `dims` and `ints` stay unpacked as in the spec.
 * Messages are kept in onnx.proto's naming (snake_case fields, parsed with keepCase) so code
 * and the spec read the same.
 */
export const ONNX_PROTO_SUBSET = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0;
    FLOAT = 1;
    INT = 2;
    STRING = 3;
    TENSOR = 4;
    FLOATS = 6;
    INTS = 7;
  }
  optional string name = 1;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
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

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message TensorProto {
  enum DataLocation {
    DEFAULT = 0;
    EXTERNAL = 1;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional bytes raw_data = 9;
  // With data_location EXTERNAL, the contents live in another file: keys "location" (path
  // relative to the model file), "offset" and "length" (bytes, as decimal strings).
  repeated StringStringEntryProto external_data = 13;
  optional DataLocation data_location = 14;
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
  oneof value {
    Tensor tensor_type = 1;
  }
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** `onnx.ModelProto` from {@link ONNX_PROTO_SUBSET}: encodes and decodes whole .onnx files. */
export const ModelProto: Type = parse(ONNX_PROTO_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto');
