// Triton's binary tensor data extension of the V2 REST protocol: a body is a JSON header
// (`Inference-Header-Content-Length` bytes) followed by the raw bytes of the tensors that carry
// the `binary_data_size` parameter, in the order they appear in the header. Tensor bytes are
// little-endian, row-major, unpadded; BOOL one byte; a BYTES element a 4-byte little-endian
// length then its bytes (see tensor-bytes.ts). The header goes through the same validation and
// writer as plain JSON (json-codec.ts). Runs in Node and browsers.
import { isDatatype, TYPED_ARRAY } from './datatypes.ts';
import type { Datatype } from './datatypes.ts';
import { SibylError } from './errors.ts';
import type { ErrorReason } from './errors.ts';
import type { InferRequest, InferResponse, Parameters, Tensor } from './infer.ts';
import { checkTensorData } from './json-data.ts';
import { decodeInferRequest, decodeInferResponse, writeInferRequest, writeInferResponse, type DecodeRequestOptions } from './json-codec.ts';
import { copyBytes, tensorDataFromBytes, tensorDataToBytes } from './tensor-bytes.ts';

export { decodeBytesElements, encodeBytesElements } from './tensor-bytes.ts';

/** A body of the binary extension: send `body` with `Inference-Header-Content-Length: headerLength`. */
export interface BinaryBody {
  body: Uint8Array;
  headerLength: number;
}

const utf8Encoder = new TextEncoder();

function splitBody(body: Uint8Array, headerLength: number, reason: ErrorReason, what: string): [Uint8Array, Uint8Array] {
  if (!(Number.isSafeInteger(headerLength) && headerLength > 0 && headerLength <= body.length)) {
    throw new SibylError(
      reason,
      `Inference-Header-Content-Length is ${headerLength}, but the ${what} body has ${body.length} bytes; expected an integer in [1, ${body.length}] (0 means a raw binary request)`,
    );
  }
  return [body.subarray(0, headerLength), body.subarray(headerLength)];
}

/**
 * Decodes a request body of the binary extension: `headerLength` bytes of JSON (validated
 * exactly like decodeInferRequest), then the binary data of the inputs that have
 * `binary_data_size`, in input order. The sizes must add up to the bytes after the header; a
 * fixed-size input's size must be count × element size; BYTES data must hold exactly count
 * elements; an input may not have both `data` and `binary_data_size`. Each input is copied into
 * a fresh, aligned typed array owning its buffer, so `body` may be an unaligned slice of a pooled
 * buffer and may be reused once this returns. `binary_data_size` is removed from the decoded
 * inputs' parameters. For `headerLength` 0 (raw mode) use decodeRawInferRequest.
 */
export function decodeInferRequestBinary(body: Uint8Array, headerLength: number, options?: DecodeRequestOptions): InferRequest {
  const [header, tail] = splitBody(body, headerLength, 'MALFORMED_REQUEST', 'request');
  return decodeInferRequest(header, tail, options);
}

/** Client side of decodeInferRequestBinary, for responses; every error is MALFORMED_RESPONSE. */
export function decodeInferResponseBinary(body: Uint8Array, headerLength: number): InferResponse {
  const [header, tail] = splitBody(body, headerLength, 'MALFORMED_RESPONSE', 'response');
  return decodeInferResponse(header, tail);
}

/** The model input a raw binary request fills (model metadata: -1 marks a variable dimension). */
export interface RawInputMetadata {
  name: string;
  datatype: Datatype;
  shape: readonly number[];
}

/**
 * Decodes a raw binary request (`Inference-Header-Content-Length: 0`): the whole body is the
 * data of the model's single input, treated as batch 1.
 *
 * - `input.shape` is the model's full input shape. With `batched` (the model batches and
 *   shape[0] is its batch dimension), the batch dimension is 1 and the rest is deduced; without,
 *   the whole shape is.
 * - BYTES: the body is one element (no length prefix); the input's (non-batch) shape must be
 *   [1] or [-1]; the tensor has shape [1] ([1, 1] when batched).
 * - Fixed-size: at most one variable (-1) dimension, deduced from the byte length, which must be
 *   a whole number of elements filling the other dimensions.
 *
 * The request gets `parameters.binary_data_output = true`: raw requests get binary outputs.
 * Throws INPUT_SHAPE_MISMATCH when the shape cannot be deduced, INPUT_DATA_MISMATCH when the
 * byte length does not fit.
 */
export function decodeRawInferRequest(body: Uint8Array, input: RawInputMetadata, options?: { batched?: boolean }): InferRequest {
  const { name, datatype } = input;
  const label = `input '${name}'`;
  const batched = options?.batched === true;
  if (!isDatatype(datatype)) {
    throw new SibylError('INTERNAL_ERROR', `${label} has unknown datatype ${String(datatype)}`);
  }
  const dims = batched ? input.shape.slice(1) : input.shape.slice();
  const shownShape = `[${input.shape.join(',')}]`;
  let shape: number[];
  if (datatype === 'BYTES') {
    if (dims.length !== 1 || (dims[0] !== 1 && dims[0] !== -1)) {
      throw new SibylError(
        'INPUT_SHAPE_MISMATCH',
        `${label} (BYTES) has shape ${shownShape}; a raw binary request fills only a BYTES input of shape [1]${batched ? ' after the batch dimension' : ''}`,
      );
    }
    shape = batched ? [1, 1] : [1];
    // The body is the element itself, copied into an array owning its buffer.
    const data = [copyBytes(body)];
    return { inputs: [{ name, datatype, shape, data }], parameters: { binary_data_output: true } };
  }
  const size = TYPED_ARRAY[datatype].BYTES_PER_ELEMENT;
  if (body.length % size !== 0) {
    throw new SibylError('INPUT_DATA_MISMATCH', `the raw binary body of ${label} has ${body.length} bytes, not a whole number of ${datatype} elements (${size} bytes each)`);
  }
  const count = body.length / size;
  let variable = -1;
  let fixed = 1;
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i]!;
    if (d >= 0) fixed *= d;
    else if (variable === -1) variable = i;
    else {
      throw new SibylError(
        'INPUT_SHAPE_MISMATCH',
        `${label} has shape ${shownShape}, with more than one variable dimension${batched ? ' besides the batch dimension' : ''}; a raw binary request can deduce at most one`,
      );
    }
  }
  if (variable === -1) {
    if (count !== fixed) {
      throw new SibylError(
        'INPUT_DATA_MISMATCH',
        `${label} has shape ${shownShape}, which takes ${fixed * size} bytes of ${datatype}${batched ? ' per batch item' : ''}, but the raw binary body has ${body.length}`,
      );
    }
  } else {
    if (fixed === 0 ? count !== 0 : count % fixed !== 0) {
      throw new SibylError(
        'INPUT_DATA_MISMATCH',
        `the raw binary body holds ${count} ${datatype} elements, which do not fill ${label} of shape ${shownShape} (a multiple of ${fixed} elements)`,
      );
    }
    dims[variable] = fixed === 0 ? 0 : count / fixed;
  }
  shape = batched ? [1, ...dims] : dims;
  const data = tensorDataFromBytes(datatype, body, shape, label);
  return { inputs: [{ name, datatype, shape, data }], parameters: { binary_data_output: true } };
}

/**
 * Which outputs a request wants as binary data: the request parameter `binary_data_output`
 * (all outputs), overridden per output by the requested output's `binary_data` parameter.
 * Raw binary requests (decodeRawInferRequest) set `binary_data_output`.
 */
export function binaryOutputSelector(request: InferRequest): (outputName: string) => boolean {
  const all = request.parameters?.binary_data_output === true;
  let overrides: Map<string, boolean> | undefined;
  for (const o of request.outputs ?? []) {
    const b = o.parameters?.binary_data;
    if (typeof b === 'boolean' && b !== all) (overrides ??= new Map()).set(o.name, b);
  }
  if (overrides === undefined) return all ? () => true : () => false;
  const map = overrides;
  return (name) => map.get(name) ?? all;
}

/** The tensor's wire bytes, after checking its data fits its datatype and shape. */
function tensorBytes(t: Tensor, role: 'input' | 'output'): Uint8Array {
  const problem = checkTensorData(`${role} '${t.name}'`, t.datatype, t.shape, t.data);
  if (problem !== undefined) throw new SibylError(role === 'output' ? 'INTERNAL_ERROR' : 'INPUT_DATA_MISMATCH', problem);
  return tensorDataToBytes(t.datatype, t.data);
}

function assemble(header: string, parts: readonly (Uint8Array | undefined)[], total: number): BinaryBody {
  const headerBytes = utf8Encoder.encode(header);
  const body = new Uint8Array(headerBytes.length + total);
  body.set(headerBytes, 0);
  let p = headerBytes.length;
  for (const part of parts) {
    if (part === undefined) continue;
    body.set(part, p);
    p += part.length;
  }
  return { body, headerLength: headerBytes.length };
}

/**
 * Encodes a response with the binary extension: the JSON header (the same writer as
 * encodeInferResponse; binary outputs get `"parameters":{…,"binary_data_size":N}` and no `data`)
 * followed by the binary outputs' bytes in output order. Send it with
 * `Inference-Header-Content-Length: headerLength` and `Content-Type: application/octet-stream`.
 * When no output is binary, use encodeInferResponse instead (plain JSON, no extra header): this
 * function would still produce a valid body whose header is the whole body. The body is a fresh
 * array owning its buffer. Throws INTERNAL_ERROR if an output's data does not match its
 * datatype or shape.
 */
export function encodeInferResponseBinary(response: InferResponse, isBinary: (name: string) => boolean): BinaryBody {
  const outputs = response.outputs;
  const sizes: number[] = new Array<number>(outputs.length);
  const parts: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(outputs.length);
  let total = 0;
  for (let i = 0; i < outputs.length; i++) {
    const o = outputs[i]!;
    if (isBinary(o.name)) {
      const bytes = tensorBytes(o, 'output');
      parts[i] = bytes;
      sizes[i] = bytes.length;
      total += bytes.length;
    } else {
      sizes[i] = -1;
    }
  }
  return assemble(writeInferResponse(response, sizes), parts, total);
}

/**
 * Encodes a request with the binary extension (clients and tests): every input travels as
 * binary data. `binaryOutputs` sets the request parameter `binary_data_output` (left as the
 * request has it when undefined). Throws INPUT_DATA_MISMATCH if an input's data does not match
 * its datatype or shape.
 */
export function encodeInferRequestBinary(request: InferRequest, options?: { binaryOutputs?: boolean }): BinaryBody {
  const inputs = request.inputs;
  const sizes: number[] = new Array<number>(inputs.length);
  const parts: Uint8Array[] = new Array<Uint8Array>(inputs.length);
  let total = 0;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    const bytes = tensorBytes(t, 'input');
    parts[i] = bytes;
    sizes[i] = bytes.length;
    total += bytes.length;
  }
  let parameters: Parameters | undefined = request.parameters;
  if (options?.binaryOutputs !== undefined) parameters = { ...parameters, binary_data_output: options.binaryOutputs };
  return assemble(writeInferRequest(request, sizes, parameters), parts, total);
}
