// TensorFlow Serving's predict JSON ⇄ InferRequest / InferResponse. Requests come in the row
// format (`instances`: one element per example, a bare value for a one-input model or an object
// keyed by input name) or the columnar format (`inputs`: one tensor, or an object keyed by input
// name). Tensors are nested JSON arrays; their shape is read from the nesting and their datatype
// from the model's signature; BYTES elements are strings or {"b64": "…"}. Responses follow the
// request's format: `predictions` (per example) or `outputs` (per tensor), with the output name
// dropped when the model has one output. Element rules are the V2 codec's (INT64 exact, non-
// finite floats null), so the numbers are the same as over V2.
import {
  REQUEST_LIMITS,
  SibylError,
  countBytesElements,
  elementCount,
  limitExceeded,
  tensorDataFromJson,
  tensorDataToNestedJson,
  type BytesElements,
  type InferRequest,
  type InferResponse,
  type Tensor,
  type TensorData,
  type TensorMetadata,
} from '@sibyl/protocol';
import { preview } from '../../../serving/frontend-vocabulary.ts';
import { base64Problem, decodeBase64 } from './base64.ts';

export type PredictFormat = 'row' | 'columnar';

export interface PredictRequest {
  format: PredictFormat;
  request: InferRequest;
}

const SIGNATURES = ['', 'serving_default'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isB64 = (v: unknown): v is { b64: unknown } => isObject(v) && Object.keys(v).length === 1 && 'b64' in v;

/**
 * The shape of a nested JSON value; every array at one depth must have the same length. Nesting
 * deeper than REQUEST_LIMITS.maxDims is refused before it is walked (it bounds the recursion).
 */
function shapeOf(value: unknown, label: string, depth = 0): number[] {
  if (!Array.isArray(value)) return [];
  // The walk stops here, so the real depth is unknown: "more than the limit", not depth + 1.
  if (depth === REQUEST_LIMITS.maxDims) throw limitExceeded('dimensions', undefined, REQUEST_LIMITS.maxDims, `${label}'s nesting`);
  if (value.length === 0) return [0];
  const inner = shapeOf(value[0], label, depth + 1);
  for (let i = 1; i < value.length; i++) {
    const other = shapeOf(value[i], label, depth + 1);
    if (other.length !== inner.length || other.some((d, k) => d !== inner[k])) {
      throw new SibylError('INPUT_SHAPE_MISMATCH', `${label} is ragged: element 0 has shape [${inner.join(',')}] but element ${i} has [${other.join(',')}]; every row must have the same shape`);
    }
  }
  return [value.length, ...inner];
}

const utf8 = new TextEncoder();

function bytesElement(v: unknown, label: string, index: number): Uint8Array {
  if (typeof v === 'string') return utf8.encode(v);
  if (isB64(v) && typeof v.b64 === 'string') {
    const problem = base64Problem(v.b64);
    if (problem !== undefined) {
      throw new SibylError('INPUT_DATA_MISMATCH', `${label} (BYTES) element ${index} is {"b64": ${preview(v.b64, 30)}}, which is not valid base64: ${problem}; expected standard or URL-safe base64 (RFC 4648)`);
    }
    return decodeBase64(v.b64);
  }
  throw new SibylError('INPUT_DATA_MISMATCH', `${label} (BYTES) element ${index} is ${preview(v)}; expected a string or {"b64": "<base64>"}`);
}

function flatten(value: unknown, out: unknown[]): unknown[] {
  if (Array.isArray(value)) for (const v of value) flatten(v, out);
  else out.push(value);
  return out;
}

/** BYTES elements of the request's tensors decoded so far (REQUEST_LIMITS.maxBytesElements). */
interface Budget {
  bytesElements: number;
}

/** One input tensor from its nested JSON value, typed by the model's signature. */
function tensorOf(meta: TensorMetadata, value: unknown, label: string, budget: Budget): Tensor {
  const shape = shapeOf(value, label);
  if (meta.datatype === 'BYTES') budget.bytesElements = countBytesElements(budget.bytesElements, elementCount(shape), label);
  const flat = flatten(value, []);
  const data: TensorData =
    meta.datatype === 'BYTES' ? (flat.map((v, i) => bytesElement(v, label, i)) as BytesElements) : tensorDataFromJson({ name: meta.name, datatype: meta.datatype, shape }, flat);
  return { name: meta.name, datatype: meta.datatype, shape, data };
}

function inputNamed(inputs: readonly TensorMetadata[], name: string, where: string): TensorMetadata {
  const meta = inputs.find((t) => t.name === name);
  if (meta === undefined) {
    throw new SibylError('INPUT_UNKNOWN', `${where} names input '${name}', which the model does not have; its inputs are ${inputs.map((t) => `'${t.name}'`).join(', ')}`);
  }
  return meta;
}

function onlyInput(inputs: readonly TensorMetadata[], format: string): TensorMetadata {
  if (inputs.length !== 1) {
    throw new SibylError(
      'MALFORMED_REQUEST',
      `${format} holds bare values, which fit only a model with one input; this model has ${inputs.length} (${inputs.map((t) => `'${t.name}'`).join(', ')}): key each value by input name`,
    );
  }
  return inputs[0]!;
}

function rowInputs(instances: unknown, inputs: readonly TensorMetadata[], budget: Budget): Tensor[] {
  if (!Array.isArray(instances) || instances.length === 0) {
    throw new SibylError('MALFORMED_REQUEST', `"instances" is ${Array.isArray(instances) ? 'empty' : preview(instances)}; expected a non-empty list with one element per example`);
  }
  const named = instances.every((e) => isObject(e) && !isB64(e));
  if (!named) {
    const meta = onlyInput(inputs, '"instances"');
    return [tensorOf(meta, instances, `input '${meta.name}'`, budget)];
  }
  const names = new Set<string>();
  for (const e of instances as Record<string, unknown>[]) for (const key of Object.keys(e)) names.add(key);
  if (names.size > REQUEST_LIMITS.maxInputs) throw limitExceeded('inputs', names.size, REQUEST_LIMITS.maxInputs, '"instances"');
  return [...names].map((name) => {
    const meta = inputNamed(inputs, name, '"instances"');
    const rows = (instances as Record<string, unknown>[]).map((e, i) => {
      if (!(name in e)) throw new SibylError('INPUT_BATCH_MISMATCH', `instances[${i}] has no value for input '${name}'; every instance must name the same inputs`);
      return e[name];
    });
    return tensorOf(meta, rows, `input '${name}'`, budget);
  });
}

function columnarInputs(columns: unknown, inputs: readonly TensorMetadata[], budget: Budget): Tensor[] {
  if (isObject(columns) && !isB64(columns)) {
    const count = Object.keys(columns).length;
    if (count > REQUEST_LIMITS.maxInputs) throw limitExceeded('inputs', count, REQUEST_LIMITS.maxInputs, '"inputs"');
    return Object.entries(columns).map(([name, value]) => tensorOf(inputNamed(inputs, name, '"inputs"'), value, `input '${name}'`, budget));
  }
  const meta = onlyInput(inputs, '"inputs"');
  return [tensorOf(meta, columns, `input '${meta.name}'`, budget)];
}

/**
 * Decodes a `:predict` body (already parsed, integers beyond 2^53 as bigint) against the
 * inputs of the version that will run it.
 * @throws SibylError MALFORMED_REQUEST (not an object, neither or both formats, an unknown
 *   signature), INPUT_UNKNOWN, INPUT_SHAPE_MISMATCH (ragged data), INPUT_DATA_MISMATCH (an
 *   element, or a {"b64": …} that is not strict base64), REQUEST_LIMIT_EXCEEDED (more inputs or
 *   deeper nesting than REQUEST_LIMITS allows).
 */
export function decodePredictRequest(body: unknown, inputs: readonly TensorMetadata[]): PredictRequest {
  if (!isObject(body)) throw new SibylError('MALFORMED_REQUEST', `request body is ${preview(body)}; expected a JSON object with "instances" or "inputs"`);
  const signature = body.signature_name;
  if (signature !== undefined && !(typeof signature === 'string' && SIGNATURES.includes(signature))) {
    throw new SibylError('MALFORMED_REQUEST', `signature_name is ${preview(signature)}; this model has one signature, "serving_default"`);
  }
  const hasRows = 'instances' in body;
  const hasColumns = 'inputs' in body;
  if (hasRows === hasColumns) {
    throw new SibylError('MALFORMED_REQUEST', `request body has ${hasRows ? 'both "instances" and "inputs"' : 'neither "instances" nor "inputs"'}; expected exactly one (row or columnar format)`);
  }
  const budget: Budget = { bytesElements: 0 };
  const tensors = hasRows ? rowInputs(body.instances, inputs, budget) : columnarInputs(body.inputs, inputs, budget);
  return { format: hasRows ? 'row' : 'columnar', request: { inputs: tensors } };
}

/** Element texts nested by `shape` (row-major); a scalar shape gives the one element. */
function nestTexts(texts: readonly string[], shape: readonly number[]): string {
  let pos = 0;
  const write = (dim: number): string => {
    if (dim === shape.length) return texts[pos++]!;
    let s = '[';
    for (let i = 0; i < shape[dim]!; i++) s += (i > 0 ? ',' : '') + write(dim + 1);
    return s + ']';
  };
  return write(0);
}

/** Elements [start, end) of a tensor as nested JSON of `shape`; BYTES outputs named *_bytes as {"b64": …}. */
function valueText(t: Tensor, start: number, end: number, shape: readonly number[]): string {
  const data = t.data.slice(start, end) as TensorData;
  if (t.datatype === 'BYTES' && t.name.endsWith('_bytes')) {
    return nestTexts((data as BytesElements).map((b) => `{"b64":"${Buffer.from(b).toString('base64')}"}`), shape);
  }
  return tensorDataToNestedJson(t.datatype, data, shape, `output '${t.name}'`, start);
}

/**
 * The JSON text of a predict response: `{"predictions": [...]}` for row requests (one entry per
 * example; an object keyed by output name when the model has several outputs), `{"outputs": …}`
 * for columnar ones. Row responses need every output to have the examples as its first dimension.
 */
export function encodePredictResponse(response: InferResponse, format: PredictFormat): string {
  const outputs = response.outputs;
  const single = outputs.length === 1;
  if (format === 'columnar') {
    if (single) return `{"outputs":${valueText(outputs[0]!, 0, outputs[0]!.data.length, outputs[0]!.shape)}}`;
    return `{"outputs":{${outputs.map((o) => `${JSON.stringify(o.name)}:${valueText(o, 0, o.data.length, o.shape)}`).join(',')}}}`;
  }
  const rows = outputs[0]!.shape[0] ?? 1;
  for (const o of outputs) {
    if (o.shape.length === 0 || o.shape[0] !== rows) {
      throw new SibylError('INTERNAL_ERROR', `output '${o.name}' has shape [${o.shape.join(',')}], not ${rows} rows like '${outputs[0]!.name}'; use the columnar format ("inputs") for this model`);
    }
  }
  const row = (o: Tensor, r: number): string => {
    const per = o.data.length / rows;
    return valueText(o, r * per, (r + 1) * per, o.shape.slice(1));
  };
  const items: string[] = [];
  for (let r = 0; r < rows; r++) {
    items.push(single ? row(outputs[0]!, r) : `{${outputs.map((o) => `${JSON.stringify(o.name)}:${row(o, r)}`).join(',')}}`);
  }
  return `{"predictions":[${items.join(',')}]}`;
}
