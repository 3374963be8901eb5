// The Open Inference Protocol (KServe V2) REST JSON documents ⇄ InferRequest / InferResponse.
// Decoding validates by hand (cheap on the happy path) and decodes tensor data straight into
// typed arrays; encoding builds the JSON text directly. The binary tensor data extension
// (binary-codec.ts) reuses both through the optional `binary` tail and the header writers.
// Runs in Node and browsers.
import { parse as parseLossless } from 'lossless-json';
import { DATATYPES, isDatatype } from './datatypes.ts';
import type { Datatype, TensorData } from './datatypes.ts';
import { SibylError } from './errors.ts';
import type { ErrorReason } from './errors.ts';
import type { InferRequest, InferResponse, Parameters, RequestedOutput, Tensor } from './infer.ts';
import { countBytesElements, countTensorElements, limitExceeded, REQUEST_LIMITS, type ElementLimits } from './request-limits.ts';
import { checkTensorData, describeValue, kindOf, NEED_LOSSLESS, readJsonData, writeJsonData } from './json-data.ts';
import type { DataContext } from './json-data.ts';
import { checkRequestId } from './request-id.ts';
import { tensorDataFromBytes } from './tensor-bytes.ts';

// ---------------------------------------------------------------------------------------------
// Decoding

/** Per-document decoding state. */
interface ReadState {
  /** Decoding a response (client side): every error is MALFORMED_RESPONSE, null floats are NaN. */
  readonly response: boolean;
  /** The document came from the lossless parser (unsafe integers are bigint). */
  readonly lossless: boolean;
  /** The binary tensor data after the JSON header, if the body used the binary extension. */
  readonly tail: Uint8Array | undefined;
  /** How much of `tail` the tensors read so far have taken. */
  offset: number;
  /** BYTES elements in the request's tensors so far (REQUEST_LIMITS.maxBytesElements; requests only). */
  bytesElements: number;
  /** Elements of the request's tensors so far, and their limits (requests only). */
  elements?: number;
  elementLimits?: ElementLimits;
}

const ALLOWED_DATATYPES = DATATYPES.join(', ');
const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(st: ReadState, reason: ErrorReason, message: string): SibylError {
  return new SibylError(st.response ? 'MALFORMED_RESPONSE' : reason, message);
}

/** A count over one of REQUEST_LIMITS (MALFORMED_RESPONSE when decoding a response). */
function overLimit(st: ReadState, what: string, count: number, limit: number, where: string): SibylError {
  const e = limitExceeded(what, count, limit, where);
  return st.response ? new SibylError('MALFORMED_RESPONSE', e.message) : e;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Longest digit string read as a bigint. UINT64's maximum has 20 digits; BigInt() of a longer
 * string costs time superlinear in its length (a million digits: ~0.2 s), and no datatype or
 * parameter can hold such a value anyway: it stays a (rounded or infinite) number and fails the
 * range check of whatever reads it.
 */
const MAX_BIGINT_DIGITS = 40;

// Integers beyond 2^53 written as plain digits become bigint; every other number stays a number,
// so the lossless document differs from JSON.parse's only where JSON.parse rounded.
function parseNumberExact(text: string): number | bigint {
  const n = Number(text);
  if (Number.isSafeInteger(n) || text.length > MAX_BIGINT_DIGITS + 1) return n;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */ || c === 101 /* e */ || c === 69 /* E */) return n;
  }
  return BigInt(text);
}

const LOSSLESS_OPTIONS = {
  parseNumber: parseNumberExact,
  // Last key wins, as with JSON.parse.
  onDuplicateKey: (info: { newValue: unknown }) => info.newValue,
};

/**
 * Parses `json` with the fast JSON.parse and runs `read`; if `read` meets an integer JSON.parse
 * may have rounded where exactness matters (NEED_LOSSLESS), re-parses losslessly and reads again.
 */
function readDocument<T>(json: string | Uint8Array, tail: Uint8Array | undefined, response: boolean, read: (root: unknown, st: ReadState) => T): T {
  const what = response ? 'response body' : 'request body';
  const st: ReadState = { response, lossless: false, tail, offset: 0, bytesElements: 0 };
  let text: string;
  if (typeof json === 'string') text = json;
  else {
    try {
      text = utf8.decode(json);
    } catch {
      throw fail(st, 'MALFORMED_REQUEST', `${what} is not valid UTF-8`);
    }
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw fail(st, 'MALFORMED_REQUEST', `${what} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return read(root, st);
  } catch (e) {
    if (e !== NEED_LOSSLESS) throw tooDeep(st, e);
  }
  try {
    const exact = parseLossless(text, null, LOSSLESS_OPTIONS);
    return read(exact, { response, lossless: true, tail, offset: 0, bytesElements: 0 });
  } catch (e) {
    throw tooDeep(st, e);
  }
}

// Nested data decodes recursively (and lossless-json parses recursively); absurd nesting
// overflows the stack. Report it as the client's fault, not as an internal error.
function tooDeep(st: ReadState, e: unknown): unknown {
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return fail(st, 'MALFORMED_REQUEST', `${st.response ? 'response' : 'request'} JSON is nested too deeply: ${e.message}`);
  }
  if (e instanceof SyntaxError) {
    // lossless-json refused text JSON.parse accepted (should not happen; be explicit if it does).
    return fail(st, 'MALFORMED_REQUEST', `${st.response ? 'response' : 'request'} body is not valid JSON: ${e.message}`);
  }
  return e;
}

/**
 * Validates a parameters object: an object whose values are strings, numbers or booleans (or
 * bigint, for integers beyond 2^53, which force the exact re-parse). null or absent → undefined.
 */
function readParameters(raw: unknown, path: string, st: ReadState): Parameters | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    throw fail(st, 'PARAMETER_INVALID', `${path} is ${kindOf(raw)}; expected an object of string, number or boolean values`);
  }
  let keys = 0;
  for (const key in raw) {
    if (++keys > REQUEST_LIMITS.maxParameters) throw overLimit(st, 'keys', Object.keys(raw).length, REQUEST_LIMITS.maxParameters, path);
    const v = raw[key];
    const t = typeof v;
    if (t === 'string' || t === 'boolean' || t === 'bigint') continue;
    if (t === 'number') {
      if (!st.lossless && !Number.isSafeInteger(v) && Number.isInteger(v)) throw NEED_LOSSLESS;
      continue;
    }
    throw fail(st, 'PARAMETER_INVALID', `${path}.${key} is ${kindOf(v)}; expected a string, number or boolean`);
  }
  return raw as Parameters;
}

function expectBoolean(params: Parameters | undefined, key: string, path: string, st: ReadState): void {
  const v = params?.[key];
  if (v !== undefined && typeof v !== 'boolean') {
    throw fail(st, 'PARAMETER_INVALID', `${path}.${key} is ${kindOf(v)}; expected true or false`);
  }
}

function readShape(raw: unknown, list: string, i: number, st: ReadState): number[] {
  let ok = Array.isArray(raw);
  if (ok) {
    const a = raw as unknown[];
    if (a.length > REQUEST_LIMITS.maxDims) throw overLimit(st, 'dimensions', a.length, REQUEST_LIMITS.maxDims, `${list}[${i}].shape`);
    for (let k = 0; k < a.length; k++) {
      const d = a[k];
      if (!(typeof d === 'number' && d >= 0 && Number.isSafeInteger(d))) {
        ok = false;
        break;
      }
    }
  }
  if (!ok) {
    throw fail(st, 'MALFORMED_REQUEST', `${list}[${i}].shape is ${raw === undefined ? 'missing' : describeValue(raw)}; expected an array of non-negative integers`);
  }
  return raw as number[];
}

/** Takes `binary_data_size` bytes of the tail for one tensor. */
function takeBinary(size: unknown, label: string, path: string, st: ReadState): Uint8Array {
  if (!(typeof size === 'number' && size >= 0 && Number.isSafeInteger(size))) {
    throw fail(st, 'PARAMETER_INVALID', `${path}.parameters.binary_data_size is ${kindOf(size)}; expected a non-negative integer byte count`);
  }
  const tail = st.tail;
  if (tail === undefined) {
    throw fail(
      st,
      'MALFORMED_REQUEST',
      `${label} has parameters.binary_data_size but the body carries no binary data; send it with the binary tensor data extension (Inference-Header-Content-Length)`,
    );
  }
  const start = st.offset;
  if (start + size > tail.length) {
    throw fail(st, 'MALFORMED_REQUEST', `${label} has binary_data_size ${size}, but only ${tail.length - start} bytes of binary data remain${start > 0 ? ` after the ${start} bytes of the tensors before it` : ''}`);
  }
  st.offset = start + size;
  return tail.subarray(start, start + size);
}

/** Decodes one tensor of `inputs` (requests) or `outputs` (responses). */
function readTensor(raw: unknown, list: 'inputs' | 'outputs', i: number, st: ReadState): Tensor {
  // Paths and labels for messages are built only when something is wrong: this runs per tensor.
  if (!isObject(raw)) {
    throw fail(st, 'MALFORMED_REQUEST', `${list}[${i}] is ${kindOf(raw)}; expected an object with name, shape, datatype and data`);
  }
  const name = raw.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw fail(st, 'MALFORMED_REQUEST', `${list}[${i}].name is ${name === undefined ? 'missing' : kindOf(name)}; expected a non-empty string`);
  }
  if (name.length > REQUEST_LIMITS.maxNameLength) throw overLimit(st, 'characters', name.length, REQUEST_LIMITS.maxNameLength, `${list}[${i}].name`);
  const datatype = raw.datatype;
  if (!isDatatype(datatype)) {
    throw fail(st, 'MALFORMED_REQUEST', `${list}[${i}].datatype is ${datatype === undefined ? 'missing' : describeValue(datatype)}; expected one of ${ALLOWED_DATATYPES}`);
  }
  const shape = readShape(raw.shape, list, i, st);
  const rawParameters = raw.parameters;
  let parameters = rawParameters === undefined || rawParameters === null ? undefined : readParameters(rawParameters, `${list}[${i}].parameters`, st);
  const kind = list === 'inputs' ? 'input' : 'output';
  let count = 1;
  for (let d = 0; d < shape.length; d++) count *= shape[d]!;
  if (!st.response) st.elements = countTensorElements(st.elements ?? 0, shape, `${kind} '${name}'`, st.elementLimits);
  if (datatype === 'BYTES' && !st.response) st.bytesElements = countBytesElements(st.bytesElements, count, `${kind} '${name}'`);

  let data: TensorData;
  const binarySize = parameters?.binary_data_size;
  const rawData = raw.data;
  if (binarySize !== undefined) {
    const label = `${kind} '${name}'`;
    if (rawData !== undefined && rawData !== null) {
      throw fail(st, 'MALFORMED_REQUEST', `${label} has both data and parameters.binary_data_size; send its data one way only`);
    }
    const bytes = takeBinary(binarySize, label, `${list}[${i}]`, st);
    data = tensorDataFromBytes(datatype, bytes, shape, label, st.response ? 'MALFORMED_RESPONSE' : 'INPUT_DATA_MISMATCH');
    parameters = withoutBinaryDataSize(parameters!);
  } else {
    if (!Array.isArray(rawData)) {
      const expected = `a JSON array of ${count} element${count === 1 ? '' : 's'}`;
      throw fail(
        st,
        'MALFORMED_REQUEST',
        rawData === undefined || rawData === null
          ? `${kind} '${name}' has no data; expected data (${expected}) or parameters.binary_data_size`
          : `${kind} '${name}' data is ${kindOf(rawData)}; expected ${expected}`,
      );
    }
    const ctx: DataContext = {
      kind,
      name,
      datatype,
      shape,
      lossless: st.lossless,
      nullIsNaN: st.response,
      reason: st.response ? 'MALFORMED_RESPONSE' : 'INPUT_DATA_MISMATCH',
    };
    data = readJsonData(rawData, count, ctx);
  }
  const tensor: Tensor = { name, datatype, shape, data };
  if (parameters !== undefined) tensor.parameters = parameters;
  return tensor;
}

// The decoded tensor holds its data: binary_data_size described the wire, not the tensor.
function withoutBinaryDataSize(p: Parameters): Parameters | undefined {
  let out: Parameters | undefined;
  for (const key in p) {
    if (key === 'binary_data_size') continue;
    (out ??= {})[key] = p[key]!;
  }
  return out;
}

function checkTailConsumed(st: ReadState, list: string): void {
  if (st.tail !== undefined && st.offset !== st.tail.length) {
    throw fail(
      st,
      'MALFORMED_REQUEST',
      `the binary data after the JSON header has ${st.tail.length} bytes, but the ${list}' binary_data_size parameters add up to ${st.offset}`,
    );
  }
}

/** How a request is decoded. */
export interface DecodeRequestOptions {
  /** Accept a request without inputs (`inputs` missing or empty), for endpoints that answer by key (hybrid). Default: false. */
  allowNoInputs?: boolean;
  /** Elements per tensor and per request. Default: REQUEST_LIMITS'. */
  elementLimits?: ElementLimits;
}

function readRequest(root: unknown, st: ReadState, options?: DecodeRequestOptions): InferRequest {
  if (!isObject(root)) throw fail(st, 'MALFORMED_REQUEST', `request body is ${kindOf(root)}; expected a JSON object (an inference request)`);
  st.elementLimits = options?.elementLimits;
  const rawInputs = options?.allowNoInputs === true && (root.inputs === undefined || root.inputs === null) ? [] : root.inputs;
  if (!Array.isArray(rawInputs) || (rawInputs.length === 0 && options?.allowNoInputs !== true)) {
    const got = rawInputs === undefined ? 'missing' : Array.isArray(rawInputs) ? 'empty' : kindOf(rawInputs);
    throw fail(st, 'MALFORMED_REQUEST', `request 'inputs' is ${got}; expected a non-empty array of input tensors`);
  }
  if (rawInputs.length > REQUEST_LIMITS.maxInputs) throw overLimit(st, 'inputs', rawInputs.length, REQUEST_LIMITS.maxInputs, 'request');
  const inputs: Tensor[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < rawInputs.length; i++) {
    const t = readTensor(rawInputs[i], 'inputs', i, st);
    const j = seen.get(t.name);
    if (j !== undefined) throw fail(st, 'INPUT_DUPLICATE', `inputs[${i}].name '${t.name}' repeats inputs[${j}].name; each input may appear once`);
    seen.set(t.name, i);
    inputs.push(t);
  }
  checkTailConsumed(st, 'inputs');
  const request: InferRequest = { inputs };

  const id = root.id;
  if (id !== undefined && id !== null) {
    if (typeof id !== 'string') throw fail(st, 'MALFORMED_REQUEST', `request 'id' is ${kindOf(id)}; expected a string`);
    request.id = checkRequestId(id, "request 'id'");
  }
  const parameters = readParameters(root.parameters, 'parameters', st);
  if (parameters !== undefined) {
    expectBoolean(parameters, 'binary_data_output', 'parameters', st);
    request.parameters = parameters;
  }
  const rawOutputs = root.outputs;
  if (rawOutputs !== undefined && rawOutputs !== null) {
    if (!Array.isArray(rawOutputs)) {
      throw fail(st, 'MALFORMED_REQUEST', `request 'outputs' is ${kindOf(rawOutputs)}; expected an array of {"name": string, "parameters"?: object}`);
    }
    if (rawOutputs.length > REQUEST_LIMITS.maxOutputs) throw overLimit(st, 'outputs', rawOutputs.length, REQUEST_LIMITS.maxOutputs, 'request');
    const outputs: RequestedOutput[] = [];
    for (let i = 0; i < rawOutputs.length; i++) {
      const o = rawOutputs[i];
      const path = `outputs[${i}]`;
      if (!isObject(o)) throw fail(st, 'MALFORMED_REQUEST', `${path} is ${kindOf(o)}; expected an object {"name": string, "parameters"?: object}`);
      if (typeof o.name !== 'string' || o.name.length === 0) {
        throw fail(st, 'MALFORMED_REQUEST', `${path}.name is ${o.name === undefined ? 'missing' : kindOf(o.name)}; expected a non-empty string`);
      }
      if (o.name.length > REQUEST_LIMITS.maxNameLength) throw overLimit(st, 'characters', o.name.length, REQUEST_LIMITS.maxNameLength, `${path}.name`);
      const out: RequestedOutput = { name: o.name };
      const p = readParameters(o.parameters, `${path}.parameters`, st);
      if (p !== undefined) {
        expectBoolean(p, 'binary_data', `${path}.parameters`, st);
        out.parameters = p;
      }
      outputs.push(out);
    }
    request.outputs = outputs;
  }
  return request;
}

function readResponse(root: unknown, st: ReadState): InferResponse {
  if (!isObject(root)) throw fail(st, 'MALFORMED_RESPONSE', `response body is ${kindOf(root)}; expected a JSON object (an inference response)`);
  const modelName = root.model_name;
  if (typeof modelName !== 'string') {
    throw fail(st, 'MALFORMED_RESPONSE', `response 'model_name' is ${modelName === undefined ? 'missing' : kindOf(modelName)}; expected a string`);
  }
  const rawOutputs = root.outputs;
  if (!Array.isArray(rawOutputs)) {
    throw fail(st, 'MALFORMED_RESPONSE', `response 'outputs' is ${rawOutputs === undefined ? 'missing' : kindOf(rawOutputs)}; expected an array of output tensors`);
  }
  if (rawOutputs.length > REQUEST_LIMITS.maxOutputs) throw overLimit(st, 'outputs', rawOutputs.length, REQUEST_LIMITS.maxOutputs, 'response');
  const outputs: Tensor[] = [];
  for (let i = 0; i < rawOutputs.length; i++) outputs.push(readTensor(rawOutputs[i], 'outputs', i, st));
  checkTailConsumed(st, 'outputs');
  const response: InferResponse = { model_name: modelName, outputs };
  for (const key of ['model_version', 'id'] as const) {
    const v = root[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw fail(st, 'MALFORMED_RESPONSE', `response '${key}' is ${kindOf(v)}; expected a string`);
    response[key] = v;
  }
  const parameters = readParameters(root.parameters, 'parameters', st);
  if (parameters !== undefined) response.parameters = parameters;
  return response;
}

/**
 * Decodes a V2 inference request (JSON text or its UTF-8 bytes) into typed-array tensors.
 *
 * - `data` may be flat or nested (row-major); only the element count is checked against the shape.
 * - Every fixed-size tensor's typed array owns its whole ArrayBuffer (transferable); BYTES
 *   elements are owned UTF-8 arrays.
 * - INT64/UINT64 are exact beyond 2^53 (and may be decimal strings); parameters holding integers
 *   beyond 2^53 come back as bigint.
 * - `binary_data_size` inputs take consecutive slices of `binary` (the bytes after the JSON
 *   header of the binary tensor data extension); the parameter is removed from the decoded
 *   input. Without `binary`, such inputs are an error.
 * - null for an optional field (id, parameters, outputs) means absent.
 *
 * Throws SibylError: MALFORMED_REQUEST (not JSON, not a request, bad field), INPUT_DATA_MISMATCH
 * (element count or an element's value), PARAMETER_INVALID, INPUT_DUPLICATE.
 */
export function decodeInferRequest(json: string | Uint8Array, binary?: Uint8Array, options?: DecodeRequestOptions): InferRequest {
  return readDocument(json, binary, false, (root, st) => readRequest(root, st, options));
}

/**
 * Decodes a V2 inference response (client side) with the same datatype rules as
 * decodeInferRequest; null float elements (how encodeInferResponse writes non-finite values)
 * become NaN. Every error is MALFORMED_RESPONSE.
 */
export function decodeInferResponse(json: string | Uint8Array, binary?: Uint8Array): InferResponse {
  return readDocument(json, binary, true, readResponse);
}

// ---------------------------------------------------------------------------------------------
// Encoding

function writeValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    default:
      return JSON.stringify(v) ?? 'null';
  }
}

/** `,"parameters":{…}` for the given parameters plus an optional binary_data_size; '' if none. */
function writeParameters(p: Parameters | undefined, binarySize: number): string {
  let s = '';
  if (p !== undefined) {
    for (const key in p) {
      const v = p[key];
      if (v === undefined || (binarySize >= 0 && key === 'binary_data_size')) continue;
      s += (s === '' ? '' : ',') + JSON.stringify(key) + ':' + writeValue(v);
    }
  }
  if (binarySize >= 0) s += (s === '' ? '' : ',') + '"binary_data_size":' + binarySize;
  return s === '' ? '' : ',"parameters":{' + s + '}';
}

/** One tensor object; `binarySize` ≥ 0 writes it as binary (binary_data_size, no data). */
function writeTensor(t: Tensor, binarySize: number, role: 'input' | 'output'): string {
  const problem = checkTensorData(`${role} '${t.name}'`, t.datatype, t.shape, t.data);
  if (problem !== undefined) throw new SibylError(role === 'output' ? 'INTERNAL_ERROR' : 'INPUT_DATA_MISMATCH', problem);
  let s = '{"name":' + JSON.stringify(t.name) + ',"datatype":"' + t.datatype + '","shape":[' + t.shape.join(',') + ']';
  s += writeParameters(t.parameters, binarySize);
  if (binarySize < 0) s += ',"data":[' + writeJsonData(t.datatype, t.data, `${role} '${t.name}'`) + ']';
  return s + '}';
}

/**
 * The JSON text of a response. `binarySizes[i]` ≥ 0 writes output i as binary with that byte
 * size (the binary extension's header); absent or -1 writes its data as JSON.
 * Internal to the protocol package.
 */
export function writeInferResponse(response: InferResponse, binarySizes?: readonly number[]): string {
  let s = '{"model_name":' + JSON.stringify(response.model_name);
  if (response.model_version !== undefined) s += ',"model_version":' + JSON.stringify(response.model_version);
  if (response.id !== undefined) s += ',"id":' + JSON.stringify(response.id);
  s += writeParameters(response.parameters, -1);
  s += ',"outputs":[';
  const outputs = response.outputs;
  for (let i = 0; i < outputs.length; i++) {
    if (i > 0) s += ',';
    s += writeTensor(outputs[i]!, binarySizes?.[i] ?? -1, 'output');
  }
  return s + ']}';
}

/** The JSON text of a request; `binarySizes` as for writeInferResponse. Internal to the package. */
export function writeInferRequest(request: InferRequest, binarySizes?: readonly number[], parameters: Parameters | undefined = request.parameters): string {
  let s = '{';
  if (request.id !== undefined) s += '"id":' + JSON.stringify(request.id) + ',';
  const p = writeParameters(parameters, -1);
  if (p !== '') s += p.slice(1) + ',';
  s += '"inputs":[';
  const inputs = request.inputs;
  for (let i = 0; i < inputs.length; i++) {
    if (i > 0) s += ',';
    s += writeTensor(inputs[i]!, binarySizes?.[i] ?? -1, 'input');
  }
  s += ']';
  const outputs = request.outputs;
  if (outputs !== undefined) {
    s += ',"outputs":[';
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i]!;
      s += (i > 0 ? ',' : '') + '{"name":' + JSON.stringify(o.name) + writeParameters(o.parameters, -1) + '}';
    }
    s += ']';
  }
  return s + '}';
}

/**
 * The V2 JSON text of a response, built directly: absent optional fields are omitted, data is a
 * flat array, INT64/UINT64 exact, non-finite floats null, BOOL true/false, FP16/BF16 numbers,
 * BYTES strings (their UTF-8 text). Throws INTERNAL_ERROR if an output's data does not match its
 * datatype (typed array class) or shape (element count): a server bug, not the client's; and
 * BYTES_NOT_TEXT if a BYTES output holds an element that is not UTF-8, which JSON cannot carry
 * faithfully (the client should ask for binary output).
 */
export function encodeInferResponse(response: InferResponse): string {
  return writeInferResponse(response);
}

/**
 * The V2 JSON text of a request (clients and tests); same data rules as encodeInferResponse.
 * Throws INPUT_DATA_MISMATCH if an input's data does not match its datatype or shape,
 * BYTES_NOT_TEXT for a BYTES element that is not UTF-8 (send it with encodeInferRequestBinary).
 */
export function encodeInferRequest(request: InferRequest): string {
  return writeInferRequest(request);
}

// ---------------------------------------------------------------------------------------------
// JSON tensor data for other JSON dialects (TF Serving's REST API)

/**
 * Parses JSON text exactly: integers beyond 2^53 written as plain digits become bigint, every
 * other number stays a number (the document equals JSON.parse's wherever JSON.parse is exact).
 * Throws MALFORMED_REQUEST naming the problem when the text is not JSON.
 */
export function parseJsonExact(text: string): unknown {
  try {
    return parseLossless(text, null, LOSSLESS_OPTIONS);
  } catch (e) {
    throw tooDeep({ response: false, lossless: true, tail: undefined, offset: 0, bytesElements: 0 }, e);
  }
}

/**
 * Decodes the JSON data (flat or nested, row-major; only the element count is checked against
 * the shape) of an input into a fresh typed array, with the V2 codec's element rules. Data must
 * come from parseJsonExact (or JSON.parse, when no integer is beyond 2^53). Throws
 * INPUT_DATA_MISMATCH naming the input, the element and what was expected.
 */
export function tensorDataFromJson(input: { name: string; datatype: Datatype; shape: readonly number[] }, data: readonly unknown[]): TensorData {
  let count = 1;
  for (const d of input.shape) count *= d;
  const ctx: DataContext = { kind: 'input', name: input.name, datatype: input.datatype, shape: input.shape, lossless: true, nullIsNaN: false, reason: 'INPUT_DATA_MISMATCH' };
  return readJsonData(data, count, ctx);
}

/**
 * A tensor's data as the text of a JSON array nested by `shape` (row-major), with the V2
 * codec's element rules (non-finite floats null, INT64 exact, BYTES as UTF-8 strings). A scalar
 * shape [] gives the bare element. `data` must hold product(shape) elements of the datatype.
 * Throws BYTES_NOT_TEXT naming `label` and the element (counted from `firstIndex`, when `data`
 * is a slice of a larger tensor) for a BYTES element that is not UTF-8.
 */
export function tensorDataToNestedJson(datatype: Datatype, data: TensorData, shape: readonly number[], label?: string, firstIndex = 0): string {
  if (shape.length === 0) return writeJsonData(datatype, data, label, firstIndex);
  const inner = shape[shape.length - 1]!;
  const write = (dim: number, offset: number): string => {
    if (dim === shape.length - 1) return '[' + writeJsonData(datatype, data.slice(offset, offset + inner) as TensorData, label, firstIndex + offset) + ']';
    let stride = 1;
    for (let d = dim + 1; d < shape.length; d++) stride *= shape[d]!;
    let s = '[';
    for (let i = 0; i < shape[dim]!; i++) s += (i > 0 ? ',' : '') + write(dim + 1, offset + i * stride);
    return s + ']';
  };
  return write(0, 0);
}
