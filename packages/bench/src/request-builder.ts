// The request bodies a run sends, built once before the load starts: from the model metadata
// (random inputs by datatype, seeded) or from the caller's requests / input file, then encoded
// as V2 JSON or with the binary tensor data extension. Drivers only copy prepared bytes.
import { readFile } from 'node:fs/promises';
import { decodeInferRequest, encodeInferRequest, encodeInferRequestBinary, isDatatype, toBFloat16Bits, toFloat16Bits } from '@sibyl/protocol';
import type { Datatype, InferRequest, ModelMetadata, Tensor, TensorData } from '@sibyl/protocol';
import { BenchError } from './errors.ts';
import type { Random } from './random.ts';
import { seededRandom } from './random.ts';

/** A generated input: its name, datatype and concrete shape (no -1). */
export interface InputSpec {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

/** One request ready to send, with what the report needs to know about it. */
export interface EncodedBody {
  /** The HTTP body. */
  readonly body: Uint8Array;
  /** Binary extension: the JSON header's length (Inference-Header-Content-Length); else undefined. */
  readonly headerLength: number | undefined;
  /** Rows (batch items) this request carries: its first input's first dimension when the model
   *  batches (metadata first dimension -1), else 1. */
  readonly rows: number;
}

/** A request as given by the caller, with the JSON text to send in JSON mode. */
export interface GivenRequest {
  readonly request: InferRequest;
  /** Sent as-is in JSON mode: the file's own text when it holds one request. */
  readonly json: string;
}

/** Generated integers lie in [0, INT_RANGE): valid for every integer type and small enough to be
 *  a plausible index (token id, category) for most models. Floats lie in [0, 1). */
export const INT_RANGE = 100;

/**
 * Concrete shapes of the model's inputs: `shapes[name]` when given (its rank must match the
 * metadata's), else the metadata shape with a -1 first dimension replaced by batchSize. Any
 * other -1 needs an explicit shape. Throws BenchError: 'metadata' for unusable metadata,
 * 'usage' for a missing or mismatching --shape, or a --shape naming no input.
 */
export function resolveInputSpecs(metadata: ModelMetadata, batchSize: number, shapes: Readonly<Record<string, readonly number[]>>): InputSpec[] {
  const inputs = metadata.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new BenchError('metadata', `model metadata lists no inputs; give the requests with --input-file`);
  }
  const names = new Set<string>();
  const specs = inputs.map((input, i): InputSpec => {
    const where = `model metadata inputs[${i}]`;
    if (typeof input?.name !== 'string' || input.name === '') throw new BenchError('metadata', `${where} has no name`);
    names.add(input.name);
    if (!isDatatype(input.datatype)) throw new BenchError('metadata', `${where} ('${input.name}') has datatype ${JSON.stringify(input.datatype)}, not a V2 datatype`);
    if (!Array.isArray(input.shape) || !input.shape.every((d) => Number.isSafeInteger(d) && d >= -1)) {
      throw new BenchError('metadata', `${where} ('${input.name}') has shape ${JSON.stringify(input.shape)}; expected integers ≥ -1`);
    }
    const given = shapes[input.name];
    if (given !== undefined) {
      if (given.length !== input.shape.length) {
        throw new BenchError('usage', `--shape ${input.name}:${given.join(',')} has ${given.length} dimensions, but the model's input '${input.name}' has shape [${input.shape.join(',')}]`);
      }
      return { name: input.name, datatype: input.datatype, shape: [...given] };
    }
    const shape = input.shape.map((d, k) => (d === -1 && k === 0 ? batchSize : d));
    const variable = shape.indexOf(-1);
    if (variable !== -1) {
      throw new BenchError(
        'usage',
        `input '${input.name}' has shape [${input.shape.join(',')}]: dimension ${variable} is variable; give the whole shape, e.g. --shape ${input.name}:${shape.map((d) => (d === -1 ? 1 : d)).join(',')}`,
      );
    }
    return { name: input.name, datatype: input.datatype, shape };
  });
  for (const name of Object.keys(shapes)) {
    if (!names.has(name)) throw new BenchError('usage', `--shape names input '${name}', but the model's inputs are ${[...names].map((n) => `'${n}'`).join(', ')}`);
  }
  return specs;
}

/** Random data of `count` elements of a datatype (see INT_RANGE for the value ranges). */
export function randomData(datatype: Datatype, count: number, random: Random, stringLength: number): TensorData {
  const int = (): number => Math.floor(random() * INT_RANGE);
  switch (datatype) {
    case 'BOOL': {
      const a = new Uint8Array(count);
      for (let i = 0; i < count; i++) a[i] = random() < 0.5 ? 1 : 0;
      return a;
    }
    case 'FP32':
    case 'FP64': {
      const a = datatype === 'FP32' ? new Float32Array(count) : new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = random();
      return a;
    }
    case 'FP16':
    case 'BF16': {
      const a = new Uint16Array(count);
      const bits = datatype === 'FP16' ? toFloat16Bits : toBFloat16Bits;
      for (let i = 0; i < count; i++) a[i] = bits(random());
      return a;
    }
    case 'INT64':
    case 'UINT64': {
      const a = datatype === 'INT64' ? new BigInt64Array(count) : new BigUint64Array(count);
      for (let i = 0; i < count; i++) a[i] = BigInt(int());
      return a;
    }
    case 'BYTES': {
      const out: Uint8Array[] = [];
      for (let i = 0; i < count; i++) {
        const s = new Uint8Array(stringLength);
        for (let k = 0; k < stringLength; k++) s[k] = 97 + Math.floor(random() * 26); // a..z
        out.push(s);
      }
      return out;
    }
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
    case 'INT8':
    case 'INT16':
    case 'INT32': {
      const Ctor = { UINT8: Uint8Array, UINT16: Uint16Array, UINT32: Uint32Array, INT8: Int8Array, INT16: Int16Array, INT32: Int32Array }[datatype];
      const a = new Ctor(count);
      for (let i = 0; i < count; i++) a[i] = int();
      return a;
    }
  }
}

/** `count` requests with random inputs of the given specs; the same seed gives the same requests. */
export function randomRequests(specs: readonly InputSpec[], count: number, seed: number, stringLength: number): InferRequest[] {
  const random = seededRandom(seed);
  const requests: InferRequest[] = [];
  for (let r = 0; r < count; r++) {
    const inputs: Tensor[] = specs.map((s) => {
      let n = 1;
      for (const d of s.shape) n *= d;
      return { name: s.name, datatype: s.datatype, shape: [...s.shape], data: randomData(s.datatype, n, random, stringLength) };
    });
    requests.push({ inputs });
  }
  return requests;
}

/** Requests given programmatically, validated by encoding them (errors are 'usage'). */
export function givenRequests(requests: readonly InferRequest[]): GivenRequest[] {
  return requests.map((request, i) => {
    try {
      return { request, json: encodeInferRequest(request) };
    } catch (e) {
      throw new BenchError('usage', `requests[${i}] cannot be encoded: ${(e as Error).message}`);
    }
  });
}

/**
 * Reads an input file: a V2 request object (sent as-is in JSON mode: the file's exact text) or
 * {"requests": [request, …]} (each re-serialised with JSON.stringify, so integers beyond 2^53
 * lose precision there). Every request is validated with the protocol's decoder. Throws
 * BenchError('usage') naming the file and the problem.
 */
export async function loadInputFile(path: string): Promise<GivenRequest[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BenchError('usage', `--input-file ${path}: cannot read it: ${(e as Error).message}`);
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new BenchError('usage', `--input-file ${path} is not JSON: ${(e as Error).message}`);
  }
  const decode = (json: string, where: string): GivenRequest => {
    try {
      return { request: decodeInferRequest(json), json };
    } catch (e) {
      throw new BenchError('usage', `--input-file ${path}: ${where} is not a valid V2 inference request: ${(e as Error).message}`);
    }
  };
  if (typeof root === 'object' && root !== null && !Array.isArray(root) && 'requests' in root) {
    const list = (root as { requests: unknown }).requests;
    if (!Array.isArray(list) || list.length === 0) throw new BenchError('usage', `--input-file ${path}: "requests" must be a non-empty array of V2 inference requests`);
    return list.map((r, i) => decode(JSON.stringify(r), `requests[${i}]`));
  }
  return [decode(text, 'the request')];
}

/**
 * Encodes each request once. JSON mode sends `json` as-is; binary mode sends every input as
 * binary data and asks for binary outputs (`binary_data_output: true`). `batched` says whether
 * the model's first dimension is a batch dimension (for the row count).
 */
export function encodeBodies(requests: readonly GivenRequest[], binary: boolean, batched: boolean): EncodedBody[] {
  const encoder = new TextEncoder();
  return requests.map(({ request, json }) => {
    const first = request.inputs[0];
    const rows = batched && first !== undefined && first.shape.length > 0 ? first.shape[0]! : 1;
    if (!binary) return { body: encoder.encode(json), headerLength: undefined, rows };
    const { body, headerLength } = encodeInferRequestBinary(request, { binaryOutputs: true });
    return { body, headerLength, rows };
  });
}

/** Whether the model batches: its first input's first dimension is variable (-1). */
export function isBatched(metadata: ModelMetadata | undefined): boolean {
  const shape = metadata?.inputs?.[0]?.shape;
  return Array.isArray(shape) && shape[0] === -1;
}
