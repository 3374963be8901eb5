// The Open Inference Protocol's gRPC messages (proto/grpc_service.proto) ⇄ InferRequest /
// InferResponse. Works on the plain objects @grpc/proto-loader decodes to and encodes from, with
// GRPC_LOADER_OPTIONS: field names as in the .proto, 64-bit integers as decimal strings, bytes as
// Uint8Array (Node's Buffer is one), absent fields undefined. Tensors travel either as typed
// `contents` or as raw bytes (`raw_input_contents` / `raw_output_contents`, the encoding of the
// binary tensor data extension). Used by the server (requests in, responses out) and by clients
// (requests out, responses in). Imports no gRPC library; runs in Node and browsers.
import { isDatatype, TYPED_ARRAY } from './datatypes.ts';
import type { Datatype, FixedDatatype, TensorData, TypedArray } from './datatypes.ts';
import { SibylError } from './errors.ts';
import type { ErrorReason } from './errors.ts';
import type { InferRequest, InferResponse, ParameterValue, Parameters, RequestedOutput, Tensor } from './infer.ts';
import { INT_RANGE, checkTensorData } from './json-data.ts';
import { countBytesElements, countTensorElements, limitExceeded, REQUEST_LIMITS, type ElementLimits } from './request-limits.ts';
import { checkRequestId } from './request-id.ts';
import { tensorDataFromBytes, tensorDataToBytes } from './tensor-bytes.ts';

/** Options for @grpc/proto-loader (and protobufjs toObject) that give the shapes below. */
export const GRPC_LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true } as const;

/**
 * Trailing metadata of a gRPC error status from Sibyl: the error's code and reason (what the V2
 * REST body carries as `code` and `reason`) and, when the server says, the seconds to wait.
 */
export const GRPC_ERROR_METADATA = { code: 'sibyl-code', reason: 'sibyl-reason', retryAfter: 'retry-after' } as const;

/** The .proto files of the gRPC protocol, relative to the package's `proto/` folder. */
export const GRPC_PROTO_FILES = ['grpc_service.proto', 'model_config.proto'] as const;

/** A 64-bit integer as proto-loader gives it (decimal string) or takes it (also number). */
export type GrpcInt64 = string | number;

export interface GrpcInferParameter {
  bool_param?: boolean;
  int64_param?: GrpcInt64;
  string_param?: string;
  double_param?: number;
  uint64_param?: GrpcInt64;
  /** Which field of the oneof is set (decoded messages only). */
  parameter_choice?: string;
}

export type GrpcParameters = Record<string, GrpcInferParameter>;

export interface GrpcTensorContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: GrpcInt64[];
  uint_contents?: number[];
  uint64_contents?: GrpcInt64[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

export interface GrpcTensor {
  name?: string;
  datatype?: string;
  shape?: GrpcInt64[];
  parameters?: GrpcParameters;
  contents?: GrpcTensorContents;
}

export interface GrpcModelInferRequest {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: GrpcParameters;
  inputs?: GrpcTensor[];
  outputs?: { name?: string; parameters?: GrpcParameters }[];
  raw_input_contents?: Uint8Array[];
}

export interface GrpcModelInferResponse {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: GrpcParameters;
  outputs?: GrpcTensor[];
  raw_output_contents?: Uint8Array[];
}

/** The typed-contents field that carries each datatype; FP16 and BF16 have none (raw only). */
export const CONTENTS_FIELD: { readonly [D in Datatype]: keyof GrpcTensorContents | undefined } = {
  BOOL: 'bool_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  FP16: undefined,
  BF16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};


const INT64_MAX = 2n ** 63n - 1n;

// ---------------------------------------------------------------------------------------------
// Parameters

function int64Value(v: GrpcInt64, where: string, reason: ErrorReason): number | bigint {
  const n = Number(v);
  if (Number.isSafeInteger(n)) return n;
  if (typeof v === 'bigint' || (typeof v === 'string' && /^-?\d{1,20}$/.test(v))) return BigInt(v);
  throw new SibylError(reason, `${where} is ${JSON.stringify(String(v).slice(0, 40))}; expected a 64-bit integer`);
}

/** InferParameter map → Parameters (64-bit integers beyond 2^53 as bigint). */
export function parametersFromGrpc(map: GrpcParameters | undefined, path: string, reason: ErrorReason = 'PARAMETER_INVALID'): Parameters | undefined {
  if (map === undefined || map === null) return undefined;
  const keys = Object.keys(map);
  if (keys.length > REQUEST_LIMITS.maxParameters) {
    const e = limitExceeded('keys', keys.length, REQUEST_LIMITS.maxParameters, path);
    throw reason === 'PARAMETER_INVALID' ? e : new SibylError(reason, e.message);
  }
  let out: Parameters | undefined;
  for (const key of keys) {
    // A map entry without a value: protobuf decoders may give null or nothing.
    const p = (map[key] ?? {}) as GrpcInferParameter;
    let v: ParameterValue;
    if (typeof p !== 'object') throw new SibylError(reason, `${path}['${key}'] is not an InferParameter`);
    if (p.bool_param !== undefined) v = p.bool_param;
    else if (p.int64_param !== undefined) v = int64Value(p.int64_param, `${path}['${key}'].int64_param`, reason);
    else if (p.string_param !== undefined) v = p.string_param;
    else if (p.double_param !== undefined) v = p.double_param;
    else if (p.uint64_param !== undefined) v = int64Value(p.uint64_param, `${path}['${key}'].uint64_param`, reason);
    else throw new SibylError(reason, `${path}['${key}'] has no value; set one of bool_param, int64_param, string_param, double_param or uint64_param`);
    (out ??= {})[key] = v;
  }
  return out;
}

/** Parameters → InferParameter map: integers as int64 (uint64 beyond int64), other numbers as double. */
export function parametersToGrpc(parameters: Parameters | undefined): GrpcParameters | undefined {
  if (parameters === undefined) return undefined;
  const out: GrpcParameters = {};
  for (const key of Object.keys(parameters)) {
    const v = parameters[key];
    if (typeof v === 'boolean') out[key] = { bool_param: v };
    else if (typeof v === 'string') out[key] = { string_param: v };
    else if (typeof v === 'bigint') out[key] = v > INT64_MAX ? { uint64_param: v.toString() } : { int64_param: v.toString() };
    else if (typeof v === 'number') out[key] = Number.isInteger(v) ? { int64_param: v } : { double_param: v };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tensors

interface TensorSide {
  /** 'input' or 'output', for messages. */
  role: 'input' | 'output';
  /** Reason of every error about the message's shape or data. */
  malformed: ErrorReason;
  data: ErrorReason;
}

/** Elements of a request's tensors so far (REQUEST_LIMITS.maxRequestElements). */
interface ElementCounter {
  elements: number;
  readonly limits: ElementLimits | undefined;
}

const REQUEST_SIDE: TensorSide = { role: 'input', malformed: 'MALFORMED_REQUEST', data: 'INPUT_DATA_MISMATCH' };
const RESPONSE_SIDE: TensorSide = { role: 'output', malformed: 'MALFORMED_RESPONSE', data: 'MALFORMED_RESPONSE' };

/** A count over one of REQUEST_LIMITS (MALFORMED_RESPONSE when decoding a response). */
function overLimit(side: TensorSide, what: string, count: number, limit: number, where: string): SibylError {
  const e = limitExceeded(what, count, limit, where);
  return side === REQUEST_SIDE ? e : new SibylError(side.malformed, e.message);
}

function readShape(raw: GrpcInt64[] | undefined, label: string, side: TensorSide): number[] {
  if (raw !== undefined && raw.length > REQUEST_LIMITS.maxDims) throw overLimit(side, 'dimensions', raw.length, REQUEST_LIMITS.maxDims, `${label}'s shape`);
  const shape: number[] = [];
  for (const d of raw ?? []) {
    const n = Number(d);
    if (!(Number.isSafeInteger(n) && n >= 0)) {
      throw new SibylError(side.malformed, `${label} has shape [${(raw ?? []).join(',')}]; expected non-negative integers`);
    }
    shape.push(n);
  }
  return shape;
}

/** Which typed-contents fields hold values (non-empty). */
function filledFields(contents: GrpcTensorContents | undefined): (keyof GrpcTensorContents)[] {
  if (contents === undefined) return [];
  return (Object.keys(contents) as (keyof GrpcTensorContents)[]).filter((k) => (contents[k]?.length ?? 0) > 0);
}

function typedFromContents(datatype: Datatype, contents: GrpcTensorContents | undefined, count: number, label: string, side: TensorSide): TensorData {
  const field = CONTENTS_FIELD[datatype];
  const filled = filledFields(contents);
  if (field === undefined) {
    if (count === 0 && filled.length === 0) return tensorDataFromBytes(datatype, new Uint8Array(0), [0], label, side.data);
    throw new SibylError(side.data, `${label} is ${datatype}, which has no typed contents field; send it in raw_${side.role}_contents`);
  }
  const stray = filled.find((f) => f !== field);
  if (stray !== undefined) {
    throw new SibylError(side.data, `${label} is ${datatype} but sets contents.${stray}; ${datatype} data goes in contents.${field}`);
  }
  const values = (contents?.[field] ?? []) as unknown[];
  if (values.length !== count) {
    throw new SibylError(
      side.data,
      count > 0 && values.length === 0
        ? `${label} has no data; expected ${count} element${count === 1 ? '' : 's'} in contents.${field} or raw_${side.role}_contents`
        : `${label} has a shape holding ${count} element${count === 1 ? '' : 's'}, but contents.${field} has ${values.length}`,
    );
  }
  switch (datatype) {
    case 'BYTES':
      return (values as Uint8Array[]).map((b) => Uint8Array.from(b));
    case 'BOOL':
      return Uint8Array.from(values as boolean[], (b) => (b ? 1 : 0));
    case 'FP32':
      return Float32Array.from(values as number[]);
    case 'FP64':
      return Float64Array.from(values as number[]);
    case 'INT64':
    case 'UINT64': {
      const out = datatype === 'INT64' ? new BigInt64Array(count) : new BigUint64Array(count);
      for (let i = 0; i < count; i++) out[i] = BigInt(values[i] as GrpcInt64);
      return out;
    }
    default: {
      const [min, max] = INT_RANGE[datatype as keyof typeof INT_RANGE];
      const out = new TYPED_ARRAY[datatype as FixedDatatype](count) as Int32Array;
      for (let i = 0; i < count; i++) {
        const v = values[i] as number;
        if (v < min || v > max) throw new SibylError(side.data, `${label} (${datatype}) element ${i} is ${v}; expected an integer in [${min}, ${max}]`);
        out[i] = v;
      }
      return out;
    }
  }
}

function tensorFromGrpc(wire: GrpcTensor, raw: Uint8Array | undefined, list: string, i: number, side: TensorSide, counter?: ElementCounter): Tensor {
  const name = wire.name;
  if (typeof name !== 'string' || name === '') throw new SibylError(side.malformed, `${list}[${i}].name is empty; expected the tensor's name`);
  if (name.length > REQUEST_LIMITS.maxNameLength) throw overLimit(side, 'characters', name.length, REQUEST_LIMITS.maxNameLength, `${list}[${i}].name`);
  const label = `${side.role} '${name}'`;
  const datatype = wire.datatype;
  if (!isDatatype(datatype)) {
    throw new SibylError(side.malformed, `${label} has datatype ${JSON.stringify(datatype ?? '')}; expected one of BOOL, UINT8…UINT64, INT8…INT64, FP16, BF16, FP32, FP64, BYTES`);
  }
  const shape = readShape(wire.shape, label, side);
  if (counter !== undefined) counter.elements = countTensorElements(counter.elements, shape, label, counter.limits);
  let count = 1;
  for (const d of shape) count *= d;
  let data: TensorData;
  if (raw !== undefined) {
    const filled = filledFields(wire.contents);
    if (filled.length > 0) {
      throw new SibylError(side.malformed, `${label} sets contents.${filled[0]} while the message uses raw_${side.role}_contents; send each tensor one way only`);
    }
    data = tensorDataFromBytes(datatype, raw, shape, label, side.data);
  } else {
    data = typedFromContents(datatype, wire.contents, count, label, side);
  }
  const tensor: Tensor = { name, datatype, shape, data };
  const parameters = parametersFromGrpc(wire.parameters, `${list}[${i}].parameters`, side === REQUEST_SIDE ? 'PARAMETER_INVALID' : 'MALFORMED_RESPONSE');
  if (parameters !== undefined) tensor.parameters = parameters;
  return tensor;
}

function tensorsFromGrpc(wires: GrpcTensor[] | undefined, raws: Uint8Array[] | undefined, list: string, rawList: string, side: TensorSide, limits?: ElementLimits): Tensor[] {
  const tensors = wires ?? [];
  const limit = side === REQUEST_SIDE ? REQUEST_LIMITS.maxInputs : REQUEST_LIMITS.maxOutputs;
  if (tensors.length > limit) throw overLimit(side, list, tensors.length, limit, side === REQUEST_SIDE ? 'ModelInferRequest' : 'ModelInferResponse');
  if (raws !== undefined && raws.length > 0 && raws.length !== tensors.length) {
    throw new SibylError(side.malformed, `${rawList} has ${raws.length} entries but there are ${tensors.length} ${list}; expected one entry per tensor, in ${list} order`);
  }
  const useRaw = raws !== undefined && raws.length > 0;
  if (side === REQUEST_SIDE) {
    // Counted from the shapes before any tensor is decoded (a bad shape is reported later, by name).
    let bytesElements = 0;
    tensors.forEach((t, i) => {
      if (t.datatype !== 'BYTES' || (t.shape?.length ?? 0) > REQUEST_LIMITS.maxDims) return;
      let count = 1;
      for (const d of t.shape ?? []) count *= Number(d);
      if (count > 0) bytesElements = countBytesElements(bytesElements, count, `inputs[${i}] '${t.name ?? ''}'`);
    });
  }
  const counter: ElementCounter | undefined = side === REQUEST_SIDE ? { elements: 0, limits } : undefined;
  return tensors.map((t, i) => tensorFromGrpc(t, useRaw ? raws[i] : undefined, list, i, side, counter));
}

/** Typed contents of a tensor whose data has already been checked against its datatype. */
function contentsOf(t: Tensor): GrpcTensorContents {
  const field = CONTENTS_FIELD[t.datatype]!;
  const d = t.data;
  switch (t.datatype) {
    case 'BYTES':
      return { bytes_contents: d as Uint8Array[] };
    case 'BOOL':
      return { bool_contents: Array.from(d as Uint8Array, (b) => b !== 0) };
    case 'INT64':
    case 'UINT64':
      return { [field]: Array.from(d as BigInt64Array, (v) => v.toString()) };
    default:
      return { [field]: Array.from(d as Exclude<TypedArray, BigInt64Array | BigUint64Array>) };
  }
}

/** Whether a tensor can travel as typed contents (FP16 and BF16 cannot). */
function hasContentsField(t: Tensor): boolean {
  return CONTENTS_FIELD[t.datatype] !== undefined;
}

function tensorsToGrpc(tensors: readonly Tensor[], raw: boolean, role: 'input' | 'output'): { wires: GrpcTensor[]; raws: Uint8Array[] | undefined } {
  // Raw for all or for none: the protocol forbids mixing. FP16/BF16 force raw.
  const useRaw = raw || tensors.some((t) => !hasContentsField(t));
  const wires: GrpcTensor[] = [];
  const raws: Uint8Array[] | undefined = useRaw ? [] : undefined;
  for (const t of tensors) {
    const problem = checkTensorData(`${role} '${t.name}'`, t.datatype, t.shape, t.data);
    if (problem !== undefined) throw new SibylError(role === 'output' ? 'INTERNAL_ERROR' : 'INPUT_DATA_MISMATCH', problem);
    const wire: GrpcTensor = { name: t.name, datatype: t.datatype, shape: t.shape };
    const parameters = parametersToGrpc(t.parameters);
    if (parameters !== undefined) wire.parameters = parameters;
    if (raws !== undefined) raws.push(tensorDataToBytes(t.datatype, t.data));
    else wire.contents = contentsOf(t);
    wires.push(wire);
  }
  return { wires, raws };
}

// ---------------------------------------------------------------------------------------------
// Requests and responses

/** What a ModelInferRequest asks: the model, the version ('' for the server's choice) and the request. */
export interface GrpcInferTarget {
  model: string;
  version: string;
  request: InferRequest;
  /** Whether the inputs came as raw_input_contents (a server answers in kind). */
  raw: boolean;
}

/**
 * Decodes a ModelInferRequest (server side). Each fixed-size input becomes a fresh typed array
 * owning its buffer; raw bytes are copied, never retained. Throws SibylError MALFORMED_REQUEST
 * (no model name or inputs, a bad name, datatype or shape, raw contents not one per input, or an
 * input with both raw and typed contents), INPUT_DATA_MISMATCH (data that does not fit its shape
 * or datatype, a typed field that does not belong to the datatype, FP16/BF16 not raw),
 * PARAMETER_INVALID, INPUT_DUPLICATE.
 */
export function decodeGrpcInferRequest(message: GrpcModelInferRequest, options?: { allowNoInputs?: (model: string) => boolean; elementLimits?: ElementLimits }): GrpcInferTarget {
  const model = message.model_name ?? '';
  if (model === '') throw new SibylError('MALFORMED_REQUEST', 'ModelInferRequest.model_name is empty; expected the name of a model');
  if ((message.inputs?.length ?? 0) === 0 && options?.allowNoInputs?.(model) !== true) throw new SibylError('MALFORMED_REQUEST', 'ModelInferRequest.inputs is empty; expected at least one input tensor');
  const inputs = tensorsFromGrpc(message.inputs, message.raw_input_contents, 'inputs', 'raw_input_contents', REQUEST_SIDE, options?.elementLimits);
  const seen = new Map<string, number>();
  for (let i = 0; i < inputs.length; i++) {
    const j = seen.get(inputs[i]!.name);
    if (j !== undefined) throw new SibylError('INPUT_DUPLICATE', `inputs[${i}].name '${inputs[i]!.name}' repeats inputs[${j}].name; each input may appear once`);
    seen.set(inputs[i]!.name, i);
  }
  const request: InferRequest = { inputs };
  if (message.id !== undefined && message.id !== '') request.id = checkRequestId(message.id, 'ModelInferRequest.id');
  const parameters = parametersFromGrpc(message.parameters, 'parameters');
  if (parameters !== undefined) request.parameters = parameters;
  if (message.outputs !== undefined && message.outputs.length > 0) {
    if (message.outputs.length > REQUEST_LIMITS.maxOutputs) throw limitExceeded('outputs', message.outputs.length, REQUEST_LIMITS.maxOutputs, 'ModelInferRequest');
    request.outputs = message.outputs.map((o, i): RequestedOutput => {
      if (typeof o.name !== 'string' || o.name === '') throw new SibylError('MALFORMED_REQUEST', `outputs[${i}].name is empty; expected the name of an output`);
      if (o.name.length > REQUEST_LIMITS.maxNameLength) throw limitExceeded('characters', o.name.length, REQUEST_LIMITS.maxNameLength, `outputs[${i}].name`);
      const out: RequestedOutput = { name: o.name };
      const p = parametersFromGrpc(o.parameters, `outputs[${i}].parameters`);
      if (p !== undefined) out.parameters = p;
      return out;
    });
  }
  return { model, version: message.model_version ?? '', request, raw: (message.raw_input_contents?.length ?? 0) > 0 };
}

/**
 * Encodes a response as a ModelInferResponse: outputs as raw_output_contents when `raw` (or when
 * an output is FP16/BF16, which have no typed field), else as typed contents. Raw bytes of
 * fixed-size outputs are views of the typed arrays (no copy): serialise before reusing them.
 * Throws INTERNAL_ERROR if an output's data does not match its datatype or shape.
 */
export function encodeGrpcInferResponse(response: InferResponse, options: { raw: boolean }): GrpcModelInferResponse {
  const { wires, raws } = tensorsToGrpc(response.outputs, options.raw, 'output');
  const message: GrpcModelInferResponse = { model_name: response.model_name, model_version: response.model_version ?? '', outputs: wires };
  if (response.id !== undefined) message.id = response.id;
  const parameters = parametersToGrpc(response.parameters);
  if (parameters !== undefined) message.parameters = parameters;
  if (raws !== undefined) message.raw_output_contents = raws;
  return message;
}

/**
 * Encodes a request as a ModelInferRequest (clients): inputs as raw_input_contents unless
 * `raw` is false and every input has a typed field. Throws INPUT_DATA_MISMATCH if an input's
 * data does not match its datatype or shape.
 */
export function encodeGrpcInferRequest(model: string, version: string | undefined, request: InferRequest, options: { raw: boolean }): GrpcModelInferRequest {
  const { wires, raws } = tensorsToGrpc(request.inputs, options.raw, 'input');
  const message: GrpcModelInferRequest = { model_name: model, model_version: version ?? '', inputs: wires };
  if (request.id !== undefined) message.id = request.id;
  const parameters = parametersToGrpc(request.parameters);
  if (parameters !== undefined) message.parameters = parameters;
  if (request.outputs !== undefined) {
    message.outputs = request.outputs.map((o) => {
      const p = parametersToGrpc(o.parameters);
      return p === undefined ? { name: o.name } : { name: o.name, parameters: p };
    });
  }
  if (raws !== undefined) message.raw_input_contents = raws;
  return message;
}

/** Decodes a ModelInferResponse (clients), raw or typed. Every error is MALFORMED_RESPONSE. */
export function decodeGrpcInferResponse(message: GrpcModelInferResponse): InferResponse {
  const outputs = tensorsFromGrpc(message.outputs, message.raw_output_contents, 'outputs', 'raw_output_contents', RESPONSE_SIDE);
  const response: InferResponse = { model_name: message.model_name ?? '', outputs };
  if (message.model_version !== undefined && message.model_version !== '') response.model_version = message.model_version;
  if (message.id !== undefined && message.id !== '') response.id = message.id;
  const parameters = parametersFromGrpc(message.parameters, 'parameters', 'MALFORMED_RESPONSE');
  if (parameters !== undefined) response.parameters = parameters;
  return response;
}
