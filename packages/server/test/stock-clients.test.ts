// Stock Open Inference Protocol HTTP clients against Sibyl, unchanged. PyPI is out of reach, so
// the two Python clients are replayed instead: stock-clients/tritonclient.ts and
// stock-clients/kserve.ts re-implement, from their source (paths and commits in those files),
// exactly what tritonclient.http and kserve.InferenceRESTClient put on the wire (request line,
// headers in their order, no Content-Type where they send none, JSON as rapidjson / orjson
// write it, binary tails) and how they read the answer (status checks, Inference-Header-
// Content-Length, binary_data_size offsets, error extraction). stock-clients/wire.ts sends those
// bytes over a real socket to an in-process Sibyl and parses the raw HTTP response, so nothing
// of Node's HTTP client (or of Sibyl's own protocol codecs) sits between the replica and the
// server. Expected values are computed here, independently of the server and of the codecs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import {
  addSubModel,
  corruptModelBytes,
  createTestServer,
  identityModel,
  linearClassifierExpected,
  linearClassifierModel,
  makeTempDir,
  removeDir,
  writeModelRepository,
} from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';
import {
  InferInput,
  InferRequestedOutput,
  InferenceServerClient,
  InferenceServerException,
  getInferenceRequest,
  GEVENT_USER_AGENT,
} from './stock-clients/tritonclient.ts';
import { HTTPStatusError, InferenceRESTClient, KInferInput, KInferRequest, KRequestedOutput } from './stock-clients/kserve.ts';
import { asBigInts, asNumbers, asStrings, ndarray, type NdArray } from './stock-clients/python.ts';

const { weights: WEIGHTS, bias: BIAS } = LINEAR_4X3;
// 0.1 and -0.3 are not float32-exact: numpy's float32 item() widens them to 0.10000000149011612…
const ROWS = [
  [1, 2, 3, 4],
  [-1, 0.1, 0, -0.3],
];
const ROWS_F32 = ROWS.map((r) => r.map(Math.fround));
const EXPECTED = linearClassifierExpected(WEIGHTS, BIAS, ROWS_F32);

// addsub: exact two's-complement INT64 arithmetic, computed with BigInt.
const A = [9007199254740993n, -9223372036854775807n, 1n, 5n, 0n, -7n];
const B = [2n, -1n, -1n, 3n, 9223372036854775807n, 7n];
const SUM = A.map((a, i) => BigInt.asIntN(64, a + B[i]!));
const DIFFERENCE = A.map((a, i) => BigInt.asIntN(64, a - B[i]!));

const STRINGS = ['a', 'héllo wörld', '', 'spaces and "quotes"', '∑ unicode ✓', 'x'];

let repo: string;
let server: SibylServer;
let port: number;
let baseUrl: string;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-stock-');
  await writeModelRepository(repo, {
    linear: { versions: { 1: linearClassifierModel({ weights: WEIGHTS, bias: BIAS }).bytes } },
    addsub: { versions: { 1: addSubModel().bytes } },
    identity_bytes: { versions: { 1: identityModel('BYTES', ['batch', 3]).bytes } },
    corrupt: { versions: { 1: corruptModelBytes() } },
  });
  server = await createTestServer(repo);
  await server.http.listen({ port: 0, host: '127.0.0.1' });
  const address = server.http.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  port = address.port;
  baseUrl = `http://127.0.0.1:${port}`;
}, 120_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

const features = (rows: number[][]): NdArray => ndarray('FP32', [rows.length, 4], rows.flat());
const closeTo = (actual: number[], expected: number[], digits: number): void => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, digits));
};
const requestText = (bytes: Buffer | undefined): string => (bytes ?? Buffer.alloc(0)).toString('latin1');
const headerNames = (bytes: Buffer | undefined): string[] =>
  requestText(bytes)
    .split('\r\n\r\n')[0]!
    .split('\r\n')
    .slice(1)
    .map((l) => l.slice(0, l.indexOf(':')));

/** Runs `fn`, expecting it to throw `type`; returns the error. */
async function thrown<T extends Error>(fn: () => Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    return e as T;
  }
  throw new Error(`expected ${type.name} to be thrown`);
}

// -----------------------------------------------------------------------------------------------
describe('tritonclient.http (Python) replayed byte for byte', () => {
  const client = (): InferenceServerClient => new InferenceServerClient(`127.0.0.1:${port}`);

  it('is_server_live / is_server_ready: GET with only User-Agent and Host, true on status 200', async () => {
    const c = client();
    expect(await c.isServerLive()).toBe(true);
    expect(requestText(c.lastRequest)).toBe(`GET /v2/health/live HTTP/1.1\r\nUser-Agent: ${GEVENT_USER_AGENT}\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    expect(await c.isServerReady()).toBe(true);
  });

  it('get_server_metadata: name, version and the binary_tensor_data extension', async () => {
    const meta = await client().getServerMetadata();
    expect(meta).toEqual({ name: 'sibyl', version: server.version, extensions: expect.arrayContaining(['binary_tensor_data']) });
  });

  it('is_model_ready: true for a ready model (with and without version), false for a failed or unknown one', async () => {
    const c = client();
    expect(await c.isModelReady('linear')).toBe(true);
    expect(await c.isModelReady('linear', '1')).toBe(true);
    expect(await c.isModelReady('corrupt')).toBe(false);
    expect(await c.isModelReady('nope')).toBe(false);
    expect(await c.isModelReady('linear', '7')).toBe(false);
  });

  it('get_model_metadata: inputs and outputs the client can build InferInputs from; errors raise with the server message', async () => {
    const c = client();
    const meta = await c.getModelMetadata('linear');
    expect(meta).toMatchObject({
      name: 'linear',
      versions: ['1'],
      platform: expect.any(String),
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'logits', datatype: 'FP32', shape: [-1, 3] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
    expect(await c.getModelMetadata('linear', '1')).toEqual(meta);
    const err = await thrown(() => c.getModelMetadata('nope'), InferenceServerException);
    expect(err.status).toBe('404');
    expect(err.msg).toMatch(/model 'nope' is not in the repository/);
  });

  it('get_model_repository_index: POST with an empty body and no Content-Type', async () => {
    const c = client();
    const index = (await c.getModelRepositoryIndex()) as { name: string; state: string }[];
    expect(headerNames(c.lastRequest)).toEqual(['User-Agent', 'Host', 'Content-Length']);
    expect(index.find((r) => r.name === 'linear')).toMatchObject({ state: 'READY' });
    expect(index.find((r) => r.name === 'corrupt')).toMatchObject({ state: 'UNAVAILABLE' });
  });

  it('infer, client defaults: binary input, no outputs requested → binary_data_output, binary outputs', async () => {
    const c = client();
    const input = new InferInput('features', [2, 4], 'FP32').setDataFromNumpy(features(ROWS));
    const result = await c.infer('linear', [input]);
    // The exact wire layout tritonclient produces: compact JSON in insertion order, then the tail.
    const json = '{"inputs":[{"name":"features","shape":[2,4],"datatype":"FP32","parameters":{"binary_data_size":32}}],"parameters":{"binary_data_output":true}}';
    expect(requestText(c.lastRequest)).toBe(
      `POST /v2/models/linear/infer HTTP/1.1\r\nUser-Agent: ${GEVENT_USER_AGENT}\r\nInference-Header-Content-Length: ${json.length}\r\n` +
        `Host: 127.0.0.1:${port}\r\nContent-Length: ${json.length + 32}\r\n\r\n${json}${Buffer.from(new Float32Array(ROWS_F32.flat()).buffer).toString('latin1')}`,
    );
    expect(result.headerLength).toBeGreaterThan(0);
    expect(result.getOutput('logits')).toMatchObject({ datatype: 'FP32', shape: [2, 3], parameters: { binary_data_size: 24 } });
    const logits = result.asNumpy('logits')!;
    expect(logits.shape).toEqual([2, 3]);
    closeTo(asNumbers(logits), EXPECTED.logits.flat(), 5);
    closeTo(asNumbers(result.asNumpy('probabilities')!), EXPECTED.probabilities.flat(), 6);
  });

  it('infer with JSON inputs and JSON outputs (binary_data=False): plain JSON both ways', async () => {
    const c = client();
    const input = new InferInput('features', [2, 4], 'FP32').setDataFromNumpy(features(ROWS), false);
    const outputs = [new InferRequestedOutput('logits', false), new InferRequestedOutput('probabilities', false)];
    const result = await c.infer('linear', [input], { outputs, requestId: 'triton-json-1' });
    const sent = requestText(c.lastRequest);
    expect(sent).not.toMatch(/Inference-Header-Content-Length/i);
    expect(sent).not.toMatch(/Content-Type/i);
    // numpy float32 → Python float: 1.0, 0.10000000149011612, … and binary_data: false sent explicitly.
    expect(sent).toContain('"data":[1.0,2.0,3.0,4.0,-1.0,0.10000000149011612,0.0,-0.30000001192092896]');
    expect(sent).toContain('"outputs":[{"name":"logits","parameters":{"binary_data":false}},{"name":"probabilities","parameters":{"binary_data":false}}]');
    expect(result.headerLength).toBeUndefined();
    expect(result.getResponse()).toMatchObject({ model_name: 'linear', id: 'triton-json-1' });
    closeTo(asNumbers(result.asNumpy('logits')!), EXPECTED.logits.flat(), 5);
    closeTo(asNumbers(result.asNumpy('probabilities')!), EXPECTED.probabilities.flat(), 6);
  });

  it('mixed: one binary and one JSON input, one binary and one JSON output, request id echoed (INT64)', async () => {
    const c = client();
    const a = new InferInput('a', [2, 3], 'INT64').setDataFromNumpy(ndarray('INT64', [2, 3], A));
    const b = new InferInput('b', [2, 3], 'INT64').setDataFromNumpy(ndarray('INT64', [2, 3], B), false);
    const outputs = [new InferRequestedOutput('sum', true), new InferRequestedOutput('difference', false)];
    const result = await c.infer('addsub', [a, b], { outputs, requestId: 'mixed-7' });
    const { json } = getInferenceRequest([a, b], { outputs, requestId: 'mixed-7' });
    expect(json).toBe(
      '{"id":"mixed-7","inputs":[{"name":"a","shape":[2,3],"datatype":"INT64","parameters":{"binary_data_size":48}},' +
        '{"name":"b","shape":[2,3],"datatype":"INT64","data":[2,-1,-1,3,9223372036854775807,7]}],' +
        '"outputs":[{"name":"sum","parameters":{"binary_data":true}},{"name":"difference","parameters":{"binary_data":false}}]}',
    );
    expect(result.getResponse()).toMatchObject({ id: 'mixed-7', model_name: 'addsub' });
    expect(result.getOutput('sum')).toMatchObject({ parameters: { binary_data_size: 48 } });
    expect(result.getOutput('difference')!.data).toBeDefined();
    expect(asBigInts(result.asNumpy('sum')!)).toEqual(SUM);
    expect(asBigInts(result.asNumpy('difference')!)).toEqual(DIFFERENCE);
    expect(result.asNumpy('difference')!.shape).toEqual([2, 3]);
  });

  it('INT64 beyond 2^53, binary both ways (client defaults)', async () => {
    const c = client();
    const a = new InferInput('a', [2, 3], 'INT64').setDataFromNumpy(ndarray('INT64', [2, 3], A));
    const b = new InferInput('b', [2, 3], 'INT64').setDataFromNumpy(ndarray('INT64', [2, 3], B));
    const result = await c.infer('addsub', [a, b]);
    expect(asBigInts(result.asNumpy('sum')!)).toEqual(SUM);
    expect(asBigInts(result.asNumpy('difference')!)).toEqual(DIFFERENCE);
  });

  it('INT64 beyond 2^53, JSON both ways: exact integers in the JSON text', async () => {
    const c = client();
    const a = new InferInput('a', [2, 3], 'INT64').setDataFromNumpy(ndarray('INT64', [2, 3], A), false);
    const b = new InferInput('b', [2, 3], 'INT64').setDataFromNumpy(ndarray('INT64', [2, 3], B), false);
    const outputs = [new InferRequestedOutput('sum', false), new InferRequestedOutput('difference', false)];
    const result = await c.infer('addsub', [a, b], { outputs });
    expect(result.headerLength).toBeUndefined();
    expect(asBigInts(result.asNumpy('sum')!)).toEqual(SUM);
    expect(asBigInts(result.asNumpy('difference')!)).toEqual(DIFFERENCE);
  });

  it('BYTES in binary: 4-byte little-endian length prefixes both ways', async () => {
    const c = client();
    const enc = new TextEncoder();
    // An object array mixing Python bytes and str elements, as serialize_byte_tensor accepts.
    const values = STRINGS.map((s, i) => (i % 2 === 0 ? enc.encode(s) : s));
    const input = new InferInput('input', [2, 3], 'BYTES').setDataFromNumpy(ndarray('BYTES', [2, 3], values));
    const expectedSize = STRINGS.reduce((n, s) => n + 4 + enc.encode(s).length, 0);
    expect(input.parameters.binary_data_size).toBe(expectedSize);
    const result = await c.infer('identity_bytes', [input]);
    expect(result.getOutput('output')).toMatchObject({ datatype: 'BYTES', shape: [2, 3], parameters: { binary_data_size: expectedSize } });
    const out = result.asNumpy('output')!;
    expect(out.shape).toEqual([2, 3]);
    expect((out.values as Uint8Array[]).every((v) => v instanceof Uint8Array)).toBe(true); // bytes, as deserialize_bytes_tensor gives
    expect(asStrings(out)).toEqual(STRINGS);
  });

  it('BYTES in JSON: non-ASCII escaped by rapidjson (ensure_ascii), strings back', async () => {
    const c = client();
    const input = new InferInput('input', [2, 3], 'BYTES').setDataFromNumpy(ndarray('BYTES', [2, 3], STRINGS), false);
    const result = await c.infer('identity_bytes', [input], { outputs: [new InferRequestedOutput('output', false)] });
    expect(requestText(c.lastRequest)).toContain('"h\\u00E9llo w\\u00F6rld"');
    expect(asStrings(result.asNumpy('output')!)).toEqual(STRINGS);
  });

  it('response_compression_algorithm="gzip": Accept-Encoding may be honoured or ignored; the result parses either way', async () => {
    const c = client();
    const input = new InferInput('features', [2, 4], 'FP32').setDataFromNumpy(features(ROWS));
    const result = await c.infer('linear', [input], { responseCompressionAlgorithm: 'gzip' });
    expect(requestText(c.lastRequest)).toContain('\r\nAccept-Encoding: gzip\r\n');
    closeTo(asNumbers(result.asNumpy('probabilities')!), EXPECTED.probabilities.flat(), 6);
  });

  // tritonclient can compress request bodies (infer(request_compression_algorithm=...)); Triton
  // server inflates them before reading Inference-Header-Content-Length, which counts the
  // UNCOMPRESSED JSON. A stock client using the option must get the same answer.
  it.each(['gzip', 'deflate'] as const)('request_compression_algorithm="%s": compressed binary body, header length of the uncompressed JSON', async (algorithm) => {
    const c = client();
    const input = new InferInput('features', [2, 4], 'FP32').setDataFromNumpy(features(ROWS));
    const result = await c.infer('linear', [input], { requestCompressionAlgorithm: algorithm });
    expect(requestText(c.lastRequest)).toContain(`\r\nContent-Encoding: ${algorithm}\r\n`);
    closeTo(asNumbers(result.asNumpy('logits')!), EXPECTED.logits.flat(), 5);
    closeTo(asNumbers(result.asNumpy('probabilities')!), EXPECTED.probabilities.flat(), 6);
  });

  it('request_compression_algorithm="gzip" on a pure JSON request', async () => {
    const c = client();
    const input = new InferInput('features', [2, 4], 'FP32').setDataFromNumpy(features(ROWS), false);
    const result = await c.infer('linear', [input], { requestCompressionAlgorithm: 'gzip', outputs: [new InferRequestedOutput('logits', false)] });
    closeTo(asNumbers(result.asNumpy('logits')!), EXPECTED.logits.flat(), 5);
  });

  it('bad request, unknown input: InferenceServerException [400] with the server message', async () => {
    const c = client();
    const input = new InferInput('feature', [1, 4], 'FP32').setDataFromNumpy(features([ROWS[0]!]));
    const err = await thrown(() => c.infer('linear', [input]), InferenceServerException);
    expect(err.status).toBe('400');
    expect(err.msg).toMatch(/has no input 'feature'; its inputs are 'features' \(FP32 \[-1, 4\]\)/);
    expect(String(err.message)).toMatch(/^\[400\] /);
  });

  it('bad request, wrong shape: InferenceServerException [400] with the server message', async () => {
    const c = client();
    const input = new InferInput('features', [1, 5], 'FP32').setDataFromNumpy(ndarray('FP32', [1, 5], [1, 2, 3, 4, 5]));
    const err = await thrown(() => c.infer('linear', [input]), InferenceServerException);
    expect(err.status).toBe('400');
    expect(err.msg).toMatch(/has shape \[1, 5\]; model 'linear' expects \[-1, 4\]/);
  });

  it('unknown model: InferenceServerException [404] with the server message', async () => {
    const c = client();
    const input = new InferInput('features', [1, 4], 'FP32').setDataFromNumpy(features([ROWS[0]!]));
    const err = await thrown(() => c.infer('nope', [input]), InferenceServerException);
    expect(err.status).toBe('404');
    expect(err.msg).toMatch(/model 'nope' is not in the repository/);
  });

  // InferRequestedOutput(class_count=k) asks for Triton's classification extension: the output
  // comes back as BYTES "value:index" strings, top k per batch item. A server without the
  // extension must refuse the parameter, not return the raw FP32 tensor the client does not expect.
  it('class_count (classification parameter) is honoured or refused, never silently ignored', async () => {
    const c = client();
    const input = new InferInput('features', [2, 4], 'FP32').setDataFromNumpy(features(ROWS));
    let result;
    try {
      result = await c.infer('linear', [input], { outputs: [new InferRequestedOutput('probabilities', true, 2)] });
    } catch (e) {
      expect(e).toBeInstanceOf(InferenceServerException);
      expect((e as InferenceServerException).status).toMatch(/^4\d\d$/);
      expect((e as InferenceServerException).msg).toMatch(/classification/);
      return;
    }
    const out = result.asNumpy('probabilities')!;
    expect(out.dtype).toBe('BYTES');
    expect(out.shape).toEqual([2, 2]);
    const top = EXPECTED.probabilities.map((p) => p.map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0]).slice(0, 2));
    asStrings(out).forEach((s, k) => {
      const [value, index] = s.split(':');
      const [ev, ei] = top[Math.floor(k / 2)]![k % 2]!;
      expect(Number(index)).toBe(ei);
      expect(Number(value)).toBeCloseTo(ev, 5);
    });
  });
});

// -----------------------------------------------------------------------------------------------
describe('kserve InferenceRESTClient (Python, protocol v2) replayed byte for byte', () => {
  const client = (): InferenceRESTClient => new InferenceRESTClient();

  it('is_server_live / is_server_ready read "live" / "ready" from the JSON body', async () => {
    const c = client();
    expect(await c.isServerLive(baseUrl)).toBe(true);
    expect(headerNames(c.lastRequest)).toEqual(['Host', 'Accept', 'Accept-Encoding', 'Connection', 'User-Agent']);
    expect(await c.isServerReady(baseUrl)).toBe(true);
  });

  it('is_model_ready: status 2xx → true; a model that failed to load → false', async () => {
    const c = client();
    expect(await c.isModelReady(baseUrl, 'linear')).toBe(true);
    expect(await c.isModelReady(baseUrl, 'corrupt')).toBe(false);
  });

  it('JSON inference (numpy data → to_rest dict → orjson, no Content-Type): model_name and id required back', async () => {
    const c = client();
    const request = new KInferRequest('linear', [new KInferInput('features', [2, 4], 'FP32', features(ROWS))]);
    const response = await c.infer(baseUrl, request, 'linear');
    const sent = requestText(c.lastRequest);
    expect(headerNames(c.lastRequest)).toEqual(['Host', 'Accept', 'Accept-Encoding', 'Connection', 'User-Agent', 'Content-Length']);
    // to_rest always sends an id (a fresh uuid4 when none is given) and the model_name.
    const id = c.lastJson!.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent).toContain(`{"id":"${id}","model_name":"linear","inputs":[{"name":"features","shape":[2,4],"datatype":"FP32","data":[1.0,2.0,3.0,4.0,-1.0,0.10000000149011612,0.0,-0.30000001192092896]}]}`);
    expect(response.modelName).toBe('linear');
    expect(response.id).toBe(id);
    const [logits, probabilities] = response.outputs;
    expect(logits!.name).toBe('logits');
    expect(logits!.asNumpy().shape).toEqual([2, 3]);
    closeTo(asNumbers(logits!.asNumpy()), EXPECTED.logits.flat(), 5);
    closeTo(asNumbers(probabilities!.asNumpy()), EXPECTED.probabilities.flat(), 6);
  });

  it('JSON inference with plain list data: INT64 exact beyond 2^53 (orjson ints) and a chosen id', async () => {
    const c = client();
    const request = new KInferRequest('addsub', [new KInferInput('a', [2, 3], 'INT64', [...A]), new KInferInput('b', [2, 3], 'INT64', [...B])], { requestId: 'k-int64' });
    const response = await c.infer(baseUrl, request, 'addsub');
    expect(requestText(c.lastRequest)).toContain('"data":[9007199254740993,-9223372036854775807,1,5,0,-7]');
    expect(response.id).toBe('k-int64');
    const byName = Object.fromEntries(response.outputs.map((o) => [o.name, o]));
    expect(asBigInts(byName.sum!.asNumpy())).toEqual(SUM);
    expect(asBigInts(byName.difference!.asNumpy())).toEqual(DIFFERENCE);
  });

  it('JSON inference with BYTES: UTF-8 strings as orjson writes them (not escaped)', async () => {
    const c = client();
    const request = new KInferRequest('identity_bytes', [new KInferInput('input', [2, 3], 'BYTES', ndarray('BYTES', [2, 3], STRINGS))]);
    const response = await c.infer(baseUrl, request, 'identity_bytes');
    expect(c.lastRequest!.toString('utf8')).toContain('"héllo wörld"');
    expect(asStrings(response.outputs[0]!.asNumpy())).toEqual(STRINGS);
  });

  it('binary inference: set_data_from_numpy(binary_data=True), binary_data_output, one output asked back as JSON', async () => {
    const c = client();
    const input = new KInferInput('features', [2, 4], 'FP32').setDataFromNumpy(features(ROWS));
    const request = new KInferRequest('linear', [input], {
      parameters: { binary_data_output: true },
      requestOutputs: [new KRequestedOutput('logits'), new KRequestedOutput('probabilities', { binary_data: false })],
    });
    const response = await c.infer(baseUrl, request, 'linear');
    const sent = requestText(c.lastRequest);
    expect(sent).toMatch(/\r\ninference-header-content-length: \d+\r\ncontent-type: application\/octet-stream\r\nContent-Length: \d+\r\n\r\n/);
    const byName = Object.fromEntries(response.outputs.map((o) => [o.name, o]));
    expect(byName.logits!.parameters).toMatchObject({ binary_data_size: 24 });
    expect(byName.probabilities!.parameters?.binary_data_size).toBeUndefined();
    closeTo(asNumbers(byName.logits!.asNumpy()), EXPECTED.logits.flat(), 5);
    closeTo(asNumbers(byName.probabilities!.asNumpy()), EXPECTED.probabilities.flat(), 6);
  });

  it('binary inference with BYTES and INT64 tensors', async () => {
    const c = client();
    const bytes = new KInferInput('input', [2, 3], 'BYTES').setDataFromNumpy(ndarray('BYTES', [2, 3], STRINGS));
    const r1 = await c.infer(baseUrl, new KInferRequest('identity_bytes', [bytes], { parameters: { binary_data_output: true } }), 'identity_bytes');
    expect(r1.outputs[0]!.parameters).toHaveProperty('binary_data_size');
    expect(asStrings(r1.outputs[0]!.asNumpy())).toEqual(STRINGS);
    const a = new KInferInput('a', [2, 3], 'INT64').setDataFromNumpy(ndarray('INT64', [2, 3], A));
    const b = new KInferInput('b', [2, 3], 'INT64').setDataFromNumpy(ndarray('INT64', [2, 3], B));
    const r2 = await c.infer(baseUrl, new KInferRequest('addsub', [a, b], { parameters: { binary_data_output: true } }), 'addsub');
    const byName = Object.fromEntries(r2.outputs.map((o) => [o.name, o]));
    expect(asBigInts(byName.sum!.asNumpy())).toEqual(SUM);
    expect(asBigInts(byName.difference!.asNumpy())).toEqual(DIFFERENCE);
  });

  // _construct_http_status_error puts the server's "error" into the exception only when the
  // response's Content-Type is exactly "application/json".
  it.each([
    ['unknown input', new KInferInput('feature', [1, 4], 'FP32', features([ROWS[0]!])), /has no input 'feature'; its inputs are 'features' \(FP32 \[-1, 4\]\)/],
    ['wrong shape', new KInferInput('features', [1, 5], 'FP32', ndarray('FP32', [1, 5], [1, 2, 3, 4, 5])), /has shape \[1, 5\]; model 'linear' expects \[-1, 4\]/],
  ])('bad request (%s): HTTPStatusError carrying the server message and the status', async (_name, input, message) => {
    const c = client();
    const err = await thrown(() => c.infer(baseUrl, new KInferRequest('linear', [input]), 'linear'), HTTPStatusError);
    expect(err.response.statusCode).toBe(400);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(`, '400 Bad Request' for url '${baseUrl}/v2/models/linear/infer'`);
  });
});
