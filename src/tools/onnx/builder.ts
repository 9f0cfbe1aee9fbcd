/**
 * A small typed builder for ONNX models, used by tools (test-model generator, training export).
 *
 * Owns the mapping from typed arrays and plain numbers to onnx.proto messages; onnx-schema.ts
 * owns the wire schema. It does not validate graphs: onnxruntime's session creation is the
 * validator (there is no onnx.checker in JS), and its messages name the offending node.
 */
import { endianness } from 'node:os';
import path from 'node:path';
import { ModelProto } from './onnx-schema';

/** Tensor element types the builder writes, named as onnxruntime-node names them. */
export type ElemType = 'float32' | 'int32' | 'int64' | 'uint8' | 'int8';

/** Typed arrays accepted as tensor contents; the element type follows from the array. */
export type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

/** A dimension: a fixed size, or a symbolic name (onnx.proto `dim_param`) such as `'batch'`. */
export type Dim = number | string;

/** An attribute value with its ONNX type made explicit (a JS number is not enough to pick f or i). */
export type AttributeValue =
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'tensor'; readonly data: TensorData; readonly dims: readonly number[] };

/** Options of {@link encodeModel}. */
export interface ModelOptions {
  /** Version of the default ("ai.onnx") operator set; it decides operator signatures. */
  opset: number;
  /** ModelProto.ir_version (default 8). */
  irVersion?: number;
  producerName: string;
  producerVersion?: string;
  docString?: string;
  /** Stored as ModelProto.metadata_props, in key order of the object. */
  metadata?: Readonly<Record<string, string>>;
}

// TensorProto.DataType codes in onnx.proto.
const DATA_TYPE: Readonly<Record<ElemType, number>> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7 };
const BYTES_PER_ELEMENT: Readonly<Record<ElemType, number>> = { float32: 4, uint8: 1, int8: 1, int32: 4, int64: 8 };

// AttributeProto.AttributeType codes in onnx.proto. The `type` discriminator is mandatory
// since IR version 2, so it is always written alongside the value field.
const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

// Keyed by Symbol.toStringTag rather than instanceof, because a typed array made in another
// realm (a jest vm sandbox, a worker) fails instanceof against this realm's constructors.
const ELEM_TYPE_BY_TAG: Readonly<Record<string, ElemType>> = {
  Float32Array: 'float32',
  Int32Array: 'int32',
  BigInt64Array: 'int64',
  Uint8Array: 'uint8',
  Int8Array: 'int8',
};

const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Explicitly typed attribute values for {@link GraphBuilder.node}.
 *
 * ONNX stores floats (`f`, float32) and integers (`i`, int64) in different fields, and an
 * operator rejects the wrong one, so the caller says which one it means.
 */
export const attr = {
  /**
   * A float attribute (AttributeProto.f, stored as float32).
   * @param value - the number, rounded to float32 on encoding
   */
  f(value: number): AttributeValue {
    return { kind: 'float', value };
  },
  /**
   * An integer attribute (AttributeProto.i, int64).
   * @param value - a safe integer
   */
  i(value: number): AttributeValue {
    return { kind: 'int', value: checkedInteger(value) };
  },
  /**
   * A list of floats (AttributeProto.floats).
   * @param values - the numbers, rounded to float32 on encoding
   */
  floats(values: readonly number[]): AttributeValue {
    return { kind: 'floats', value: [...values] };
  },
  /**
   * A list of integers (AttributeProto.ints), e.g. Transpose `perm`.
   * @param values - safe integers
   */
  ints(values: readonly number[]): AttributeValue {
    return { kind: 'ints', value: values.map(checkedInteger) };
  },
  /**
   * A string attribute (AttributeProto.s, written as UTF-8 bytes per onnx.proto).
   * @param value - the text, e.g. Pad `mode`
   */
  s(value: string): AttributeValue {
    return { kind: 'string', value };
  },
  /**
   * A tensor attribute (AttributeProto.t), e.g. Constant `value`.
   * @param data - contents, row-major; the element type follows from the array type
   * @param dims - shape; `[]` for a scalar
   */
  tensor(data: TensorData, dims: readonly number[]): AttributeValue {
    checkTensor(data, dims);
    return { kind: 'tensor', data, dims: [...dims] };
  },
};

/**
 * Where an initializer's bytes are in an external data file (onnx.proto "external data"):
 * raw little-endian contents, `length` bytes from `offset`.
 */
export interface ExternalDataRef {
  /** Path of the data file relative to the .onnx file's directory, e.g. `model.onnx.data`. */
  location: string;
  offset: number;
  length: number;
}

// TensorProto.DataLocation.EXTERNAL in onnx.proto.
const DATA_LOCATION_EXTERNAL = 1;

// Plain-object shapes of the onnx.proto messages we write (field names as in the spec).
interface TensorProtoObject {
  name?: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
  external_data?: Array<{ key: string; value: string }>;
  data_location?: number;
}
interface AttributeProtoObject {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProtoObject;
  floats?: number[];
  ints?: number[];
}
interface NodeProtoObject {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: AttributeProtoObject[];
}
interface ValueInfoProtoObject {
  name: string;
  type: {
    tensor_type: {
      elem_type: number;
      shape?: { dim: Array<{ dim_value: number } | { dim_param: string }> };
    };
  };
}
/** The GraphProto message a {@link GraphBuilder} describes, as a plain object. */
export interface GraphProtoObject {
  name: string;
  node: NodeProtoObject[];
  initializer: TensorProtoObject[];
  input: ValueInfoProtoObject[];
  output: ValueInfoProtoObject[];
}

/**
 * Collects the inputs, outputs, initializers and nodes of one ONNX graph.
 *
 * Nodes must be added in topological order (GraphProto.node is "sorted topologically" per
 * onnx.proto). Typed arrays are kept by reference and read by {@link encodeModel}.
 */
export class GraphBuilder {
  private readonly nodes: NodeProtoObject[] = [];
  private readonly initializers: TensorProtoObject[] = [];
  private readonly inputs: ValueInfoProtoObject[] = [];
  private readonly outputs: ValueInfoProtoObject[] = [];

  /**
   * @param name - GraphProto.name
   */
  constructor(readonly name: string) {}

  /**
   * Declares a graph input.
   * @param name - the name fed at run time
   * @param elemType - element type; onnxruntime rejects a feed of any other type
   * @param dims - shape; strings are symbolic dims, equal strings must agree at run time
   */
  input(name: string, elemType: ElemType, dims: readonly Dim[]): this {
    this.inputs.push(valueInfo(name, elemType, dims));
    return this;
  }

  /**
   * Declares a graph output.
   * @param name - a value some node produces
   * @param elemType - element type
   * @param dims - shape; omit it to leave even the rank unknown (an output may omit its shape)
   */
  output(name: string, elemType: ElemType, dims?: readonly Dim[]): this {
    this.outputs.push(valueInfo(name, elemType, dims));
    return this;
  }

  /**
   * Adds a constant tensor (GraphProto.initializer), e.g. weights or a ReduceSum `axes` input.
   * @param name - the value name nodes refer to
   * @param data - contents, row-major; a subarray view contributes only its own elements
   * @param dims - shape; the product must equal `data.length`
   */
  initializer(name: string, data: TensorData, dims: readonly number[]): this {
    checkTensor(data, dims);
    this.initializers.push({ name, ...tensorFields(data, dims) });
    return this;
  }

  /**
   * Adds a constant tensor whose contents are stored in an external data file rather than in
   * the model: models over protobuf's 2 GB limit, or too large to encode in memory, need it.
   * onnxruntime resolves `location` against the model file's directory, so such a model must
   * be opened from its path, not from bytes.
   * @param name - the value name nodes refer to
   * @param elemType - element type of the stored contents
   * @param dims - shape; `ref.length` must be its element count times the element size
   * @param ref - file (relative, no `..`), byte offset and byte length of the contents
   */
  externalInitializer(name: string, elemType: ElemType, dims: readonly number[], ref: ExternalDataRef): this {
    const count = dims.reduce((product, dim) => product * checkedDim(dim), 1);
    const width = BYTES_PER_ELEMENT[elemType];
    if (ref.length !== count * width) {
      throw new RangeError(`"${name}": shape [${dims.join(', ')}] of ${elemType} needs ${count * width} bytes, the reference has ${ref.length}`);
    }
    if (ref.location === '' || path.isAbsolute(ref.location) || ref.location.split(/[\\/]/).includes('..')) {
      throw new RangeError(`"${name}": external data location "${ref.location}" must be a relative path inside the model's directory`);
    }
    this.initializers.push({
      name,
      dims: [...dims],
      data_type: DATA_TYPE[elemType],
      external_data: [
        { key: 'location', value: ref.location },
        { key: 'offset', value: String(checkedInteger(ref.offset)) },
        { key: 'length', value: String(checkedInteger(ref.length)) },
      ],
      data_location: DATA_LOCATION_EXTERNAL,
    });
    return this;
  }

  /**
   * Adds a node (NodeProto) in the default ONNX domain.
   * @param opType - operator name, e.g. `'MatMul'`; its signature depends on the model's opset
   * @param inputs - value names; `''` marks an omitted optional input, as the spec prescribes
   * @param outputs - value names this node produces
   * @param attrs - attributes built with {@link attr}
   * @param name - node name for error messages (default `<opType>_<index>`)
   */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: Readonly<Record<string, AttributeValue>> = {},
    name = `${opType}_${this.nodes.length}`,
  ): this {
    this.nodes.push({
      name,
      op_type: opType,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attrs).map(([key, value]) => attributeProto(key, value)),
    });
    return this;
  }

  /** The GraphProto this builder describes, as a plain object with onnx.proto field names. */
  toGraphProto(): GraphProtoObject {
    return {
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    };
  }
}

/**
 * Serializes a graph as an ONNX model (ModelProto), ready for a `.onnx` file or
 * `InferenceSession.create(bytes)`.
 * @param graph - the graph to wrap
 * @param options - opset, IR version and producer information, metadata_props
 * @returns the protobuf bytes of the ModelProto. Under Node this is a Buffer that, for small
 *   models, views a shared pool: honour byteOffset/byteLength, never pass `.buffer` alone.
 * @throws Error when the message does not fit the schema (a bug in this module)
 */
export function encodeModel(graph: GraphBuilder, options: ModelOptions): Uint8Array {
  const model = {
    ir_version: checkedInteger(options.irVersion ?? 8),
    // domain "" is the default ONNX operator set (onnx.proto OperatorSetIdProto).
    opset_import: [{ domain: '', version: checkedInteger(options.opset) }],
    producer_name: options.producerName,
    ...(options.producerVersion !== undefined && { producer_version: options.producerVersion }),
    ...(options.docString !== undefined && { doc_string: options.docString }),
    graph: graph.toGraphProto(),
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`ONNX model does not fit onnx.ModelProto: ${problem}`);
  return ModelProto.encode(model).finish();
}

function valueInfo(name: string, elemType: ElemType, dims: readonly Dim[] | undefined): ValueInfoProtoObject {
  const tensorType: ValueInfoProtoObject['type']['tensor_type'] = { elem_type: DATA_TYPE[elemType] };
  if (dims) {
    tensorType.shape = {
      dim: dims.map((dim) => {
        if (typeof dim === 'string') {
          if (dim === '') throw new RangeError(`"${name}": a symbolic dim needs a name`);
          return { dim_param: dim };
        }
        return { dim_value: checkedDim(dim) };
      }),
    };
  }
  return { name, type: { tensor_type: tensorType } };
}

function attributeProto(name: string, value: AttributeValue): AttributeProtoObject {
  switch (value.kind) {
    case 'float':
      return { name, type: ATTRIBUTE_TYPE.FLOAT, f: value.value };
    case 'int':
      return { name, type: ATTRIBUTE_TYPE.INT, i: value.value };
    case 'floats':
      return { name, type: ATTRIBUTE_TYPE.FLOATS, floats: [...value.value] };
    case 'ints':
      return { name, type: ATTRIBUTE_TYPE.INTS, ints: [...value.value] };
    case 'string':
      return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(value.value) };
    case 'tensor':
      return { name, type: ATTRIBUTE_TYPE.TENSOR, t: tensorFields(value.data, value.dims) };
  }
}

function tensorFields(data: TensorData, dims: readonly number[]): TensorProtoObject {
  return { dims: [...dims], data_type: DATA_TYPE[elemTypeOf(data)], raw_data: littleEndianBytes(data) };
}

/**
 * The bytes of exactly `data`'s elements, little-endian as onnx.proto requires of raw_data
 * and of external data files.
 * A view with the array's own byteOffset/byteLength: `new Uint8Array(data.buffer)` would
 * take the whole underlying buffer and silently shift or pad a subarray's contents.
 */
export function littleEndianBytes(data: TensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const width = data.BYTES_PER_ELEMENT;
  if (HOST_IS_LITTLE_ENDIAN || width === 1) return bytes;
  const swapped = bytes.slice();
  for (let at = 0; at < swapped.length; at += width) swapped.subarray(at, at + width).reverse();
  return swapped;
}

function elemTypeOf(data: TensorData): ElemType {
  const elemType = ELEM_TYPE_BY_TAG[data[Symbol.toStringTag]];
  if (!elemType) throw new TypeError(`unsupported tensor data ${data[Symbol.toStringTag]}`);
  return elemType;
}

function checkTensor(data: TensorData, dims: readonly number[]): void {
  elemTypeOf(data);
  const count = dims.reduce((product, dim) => product * checkedDim(dim), 1);
  if (count !== data.length) {
    throw new RangeError(`tensor of shape [${dims.join(', ')}] needs ${count} elements, got ${data.length}`);
  }
}

function checkedDim(dim: number): number {
  if (!Number.isSafeInteger(dim) || dim < 0) throw new RangeError(`dimension ${dim} is not a non-negative integer`);
  return dim;
}

// int64 fields are written from JS numbers, which are exact only up to 2^53.
function checkedInteger(value: number): number {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not a safe integer`);
  return value;
}
