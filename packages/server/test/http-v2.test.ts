// The Open Inference Protocol REST frontend, in process (Fastify inject), over a repository of
// models built in code and run by the real onnxruntime in worker threads. Expected outputs are
// computed independently of the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DATATYPES,
  decodeInferResponse,
  decodeInferResponseBinary,
  encodeInferRequestBinary,
  type Datatype,
  type InferResponse,
} from '@sibyl/protocol';
import type { SibylServer } from '../src/server.ts';
import {
  addSubModel,
  corruptModelBytes,
  createTestServer,
  fixedBatchModel,
  identityModel,
  linearClassifierExpected,
  linearClassifierModel,
  makeTempDir,
  removeDir,
  unsupportedOpModel,
  writeModelRepository,
} from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';

const { weights: WEIGHTS, bias: BIAS } = LINEAR_4X3;
const ROWS = [
  [1, 2, 3, 4],
  [-1, 0.5, 0, 2],
];

// Identity models for every datatype onnxruntime-node can exchange (it has no bfloat16 tensors).
const IDENTITY_TYPES = DATATYPES.filter((d) => d !== 'BF16');
const SAMPLES: Record<Exclude<Datatype, 'BF16'>, unknown[]> = {
  BOOL: [true, false, true, true],
  UINT8: [0, 1, 254, 255],
  UINT16: [0, 7, 65534, 65535],
  UINT32: [0, 9, 4294967294, 4294967295],
  UINT64: ['0', '12', '9007199254740993', '18446744073709551615'],
  INT8: [-128, -1, 0, 127],
  INT16: [-32768, -2, 3, 32767],
  INT32: [-2147483648, -5, 6, 2147483647],
  INT64: ['-9223372036854775808', '-9007199254740993', '9007199254740993', '9223372036854775807'],
  FP16: [0, -2, 0.5, 65504],
  FP32: [0, -1.5, 3.25, 1e30],
  FP64: [0, -1.5e-300, Math.PI, 1.7976931348623157e308],
  BYTES: ['a', 'héllo', '', 'spaces and "quotes"'],
};

let repo: string;
let server: SibylServer;

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: () => unknown; body: string; raw: Buffer; headers: Record<string, unknown> }> {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await server.http.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.statusCode, json: () => res.json(), body: res.body, raw: res.rawPayload, headers: res.headers };
}

async function get(url: string): Promise<{ status: number; json: () => unknown }> {
  const res = await server.http.inject({ method: 'GET', url });
  return { status: res.statusCode, json: () => res.json() };
}

beforeAll(async () => {
  repo = await makeTempDir('sibyl-http-');
  const identities = Object.fromEntries(
    [...IDENTITY_TYPES, 'BF16' as const].map((d) => [`identity_${d.toLowerCase()}`, { versions: { 1: identityModel(d, ['batch', 4]).bytes } }]),
  );
  await writeModelRepository(repo, {
    ...identities,
    linear: { versions: { 1: linearClassifierModel({ weights: WEIGHTS, bias: BIAS }).bytes } },
    addsub: { versions: { 1: addSubModel().bytes } },
    fixed: { versions: { 1: fixedBatchModel().bytes } },
    multi: { versions: { 1: identityModel('FP32', ['batch', 2]).bytes, 3: linearClassifierModel({ weights: WEIGHTS, bias: BIAS }).bytes } },
    corrupt: { versions: { 1: corruptModelBytes() } },
    unsupported: { versions: { 1: unsupportedOpModel().bytes } },
    badconfig: { versions: { 1: identityModel('FP32', ['batch', 4]).bytes }, config: 'instanceCount: 0\nthreadsPerInstance: many\n' },
    wrongoverride: {
      versions: { 1: identityModel('FP32', ['batch', 4]).bytes },
      config: 'inputs:\n  - name: input\n    shape: [-1, 5]\n',
    },
    narrowed: {
      versions: { 1: identityModel('FP32', ['batch', 'features']).bytes },
      config: 'inputs:\n  - name: input\n    shape: [-1, 3]\nmaxBatchSize: 8\n',
    },
  });
  server = await createTestServer(repo, { bodyLimitBytes: 4096 });
}, 120_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

describe('server endpoints', () => {
  it('GET /v2 names the server and advertises its protocol extensions', async () => {
    const res = await get('/v2');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ name: 'sibyl', version: server.version, extensions: ['binary_tensor_data', 'statistics', 'schedule_policy', 'classification', 'model_repository', 'model_labels', 'model_configuration'] });
  });

  it('is live and ready even though some models failed to load', async () => {
    expect(await get('/v2/health/live')).toMatchObject({ status: 200 });
    expect((await get('/v2/health/ready')).status).toBe(200);
  });

  it('unknown routes are 404 with an error body', async () => {
    const res = await get('/v2/nothing/here');
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ code: 'NOT_FOUND', reason: 'ROUTE_NOT_FOUND' });
  });
});

describe('model metadata and readiness', () => {
  it('reads inputs, outputs and the batch dimension from the model file', async () => {
    const res = await get('/v2/models/linear');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      name: 'linear',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'logits', datatype: 'FP32', shape: [-1, 3] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
  });

  it('applies config.yaml overrides that narrow a variable dimension', async () => {
    expect((await get('/v2/models/narrowed')).json()).toMatchObject({ inputs: [{ name: 'input', shape: [-1, 3] }] });
    const res = await post('/v2/models/narrowed/infer', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ reason: 'INPUT_SHAPE_MISMATCH' });
  });

  it('serves the highest version and answers for it by number', async () => {
    expect((await get('/v2/models/multi')).json()).toMatchObject({ versions: ['1', '3'], inputs: [{ name: 'features' }] });
    expect((await get('/v2/models/multi/versions/3')).status).toBe(200);
    expect((await get('/v2/models/multi/versions/3/ready')).json()).toEqual({ name: 'multi', ready: true });
    const older = await get('/v2/models/multi/versions/1/ready');
    expect(older.status).toBe(503);
    expect(older.json()).toMatchObject({ ready: false, state: 'UNAVAILABLE', reason: 'MODEL_NOT_READY' });
    expect((await get('/v2/models/multi/versions/2')).status).toBe(404);
    expect((await get('/v2/models/multi/versions/007')).json()).toMatchObject({ reason: 'INVALID_VERSION' });
    // A name where a version goes is a label (Sibyl's model_labels extension); this model has none.
    expect((await get('/v2/models/multi/versions/x1')).json()).toMatchObject({ reason: 'LABEL_NOT_FOUND', error: "model 'multi' has no label 'x1'; it has no labels and its versions are 1, 3" });
  });

  it.each([
    ['corrupt', /load failed: .*protobuf parsing failed/i],
    ['unsupported', /load failed: .*DoesNotExist/],
    ['identity_bf16', /load failed: .*/],
    ['badconfig', /config error: .*badconfig\/config\.yaml: instanceCount: 0 is not allowed; expected an integer from 1 to 64/],
    ['wrongoverride', /config error: .*inputs\[0\]\.shape: \[-1, 5\] does not fit the model file's \[-1, 4\]/],
  ])('a model that cannot load (%s) is UNAVAILABLE with its reason in ready, metadata and the index', async (model, reason) => {
    const ready = await get(`/v2/models/${model}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.json()).toMatchObject({ name: model, ready: false, state: 'UNAVAILABLE' });
    expect((ready.json() as { error: string }).error).toMatch(reason);
    const meta = await get(`/v2/models/${model}`);
    expect(meta.status).toBe(503);
    expect((meta.json() as { error: string }).error).toMatch(reason);
    const index = (await post('/v2/repository/index', '')).json() as { name: string; state: string; reason: string }[];
    const row = index.find((r) => r.name === model)!;
    expect(row.state).toBe('UNAVAILABLE');
    expect(row.reason).toMatch(reason);
    const infer = await post(`/v2/models/${model}/infer`, { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
    expect(infer.status).toBe(503);
  });

  it('the repository index lists every model; {"ready": true} only the ready ones', async () => {
    const all = (await post('/v2/repository/index', {})).json() as { name: string; version?: string; state: string }[];
    expect(all.map((r) => `${r.name}:${r.version}`)).toContain('multi:1');
    expect(all.find((r) => r.name === 'linear')).toEqual({ name: 'linear', version: '1', state: 'READY', reason: '' });
    const ready = (await post('/v2/repository/index', { ready: true })).json() as { state: string }[];
    expect(ready.length).toBeGreaterThan(10);
    expect(ready.every((r) => r.state === 'READY')).toBe(true);
    expect((await post('/v2/repository/index', { ready: 'yes' })).status).toBe(400);
  });
});

describe('JSON inference', () => {
  it('computes what the model computes, for every row, and echoes the id', async () => {
    const res = await post('/v2/models/linear/infer', { id: 'req-7', inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: ROWS.flat() }] });
    expect(res.status).toBe(200);
    const body = res.json() as InferResponse & { outputs: { name: string; shape: number[]; data: number[] }[] };
    expect(body).toMatchObject({ model_name: 'linear', model_version: '1', id: 'req-7' });
    const expected = linearClassifierExpected(WEIGHTS, BIAS, ROWS);
    const [logits, probabilities] = body.outputs;
    expect(logits!.shape).toEqual([2, 3]);
    logits!.data.forEach((v, i) => expect(v).toBeCloseTo(expected.logits.flat()[i]!, 5));
    probabilities!.data.forEach((v, i) => expect(v).toBeCloseTo(expected.probabilities.flat()[i]!, 6));
  });

  it('accepts nested data and returns only the requested outputs', async () => {
    const res = await post('/v2/models/linear/infer', {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: ROWS }],
      outputs: [{ name: 'probabilities' }],
    });
    const body = res.json() as { outputs: { name: string; data: number[] }[] };
    expect(body.outputs.map((o) => o.name)).toEqual(['probabilities']);
    expect(body.outputs[0]!.data[4]).toBeCloseTo(linearClassifierExpected(WEIGHTS, BIAS, ROWS).probabilities[1]![1]!, 6);
  });

  it('keeps INT64 exact beyond 2^53 in both directions', async () => {
    const body = '{"inputs":[{"name":"a","datatype":"INT64","shape":[1,3],"data":[9007199254740993,-9223372036854775807,1]},' +
      '{"name":"b","datatype":"INT64","shape":[1,3],"data":[2,-1,-1]}]}';
    const res = await post('/v2/models/addsub/infer', body);
    expect(res.status).toBe(200);
    const decoded = decodeInferResponse(res.body);
    expect([...(decoded.outputs.find((o) => o.name === 'sum')!.data as BigInt64Array)]).toEqual([9007199254740995n, -9223372036854775808n, 0n]);
    expect([...(decoded.outputs.find((o) => o.name === 'difference')!.data as BigInt64Array)]).toEqual([9007199254740991n, -9223372036854775806n, 2n]);
    expect(res.body).toContain('9007199254740995');
  });

  it('tests every datatype onnxruntime-node can exchange: all but BF16', () => {
    expect(IDENTITY_TYPES).toHaveLength(DATATYPES.length - 1);
    expect(Object.keys(SAMPLES).sort()).toEqual([...IDENTITY_TYPES].sort());
  });

  it.each(IDENTITY_TYPES)('round-trips %s through the model', async (datatype) => {
    const values = SAMPLES[datatype as Exclude<Datatype, 'BF16'>];
    const jsonData = datatype === 'INT64' || datatype === 'UINT64' ? `[${(values as string[]).join(',')}]` : JSON.stringify(values);
    const body = `{"inputs":[{"name":"input","datatype":"${datatype}","shape":[1,4],"data":${jsonData}}]}`;
    const res = await post(`/v2/models/identity_${datatype.toLowerCase()}/infer`, body);
    expect(res.status).toBe(200);
    const exactText = datatype === 'INT64' || datatype === 'UINT64' ? res.body.replace(/(-?\d{16,})/g, '"$1"') : res.body;
    const output = (JSON.parse(exactText) as { outputs: { datatype: string; shape: number[]; data: unknown[] }[] }).outputs[0]!;
    expect(output.datatype).toBe(datatype);
    expect(output.shape).toEqual([1, 4]);
    if (datatype === 'FP32') expect(output.data).toEqual([0, -1.5, 3.25, Math.fround(1e30)]);
    else expect(output.data.map(String)).toEqual(values.map(String));
  });

  it('runs a model without a batch dimension on exactly its shape', async () => {
    const res = await post('/v2/models/fixed/infer', { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }] });
    expect(res.status).toBe(200);
    expect((res.json() as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual([2, 4, 6, 8, 10, 12]);
    expect((await post('/v2/models/fixed/infer', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] })).status).toBe(400);
  });
});

describe('request limits (issue 13, H2: 100k inputs took 13.9 s of event loop to refuse)', () => {
  it('refuses 100k inputs (8.5 MB) with 400 REQUEST_LIMIT_EXCEEDED naming the limit, and keeps answering', async () => {
    // The default body limit (the shared server here has 4 kB).
    const dir = await makeTempDir('sibyl-v2-limits-');
    await writeModelRepository(dir, { linear: { versions: { 1: linearClassifierModel({ weights: WEIGHTS, bias: BIAS }).bytes } } });
    const roomy = await createTestServer(dir);
    try {
      const inputs = Array.from({ length: 100_000 }, (_, i) => ({ name: `x${i}`, datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }));
      const res = await roomy.http.inject({ method: 'POST', url: '/v2/models/linear/infer', payload: JSON.stringify({ inputs }), headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        code: 'INVALID_ARGUMENT',
        reason: 'REQUEST_LIMIT_EXCEEDED',
        error: "request has 100000 inputs; at most 4096 are accepted (a limit of the server's protocol decoder, far above what a model's signature needs)",
      });
      expect((await roomy.http.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode).toBe(200);
    } finally {
      await roomy.shutdown();
      await removeDir(dir);
    }
  });
});

describe('binary tensor data extension', () => {
  it('refuses BYTES that are not UTF-8 for an ONNX model (onnxruntime carries strings as text: ff fe reached it as ef bf bd ef bf bd)', async () => {
    const data = [new TextEncoder().encode('ok'), Uint8Array.from([0xff, 0xfe]), new Uint8Array(0), new Uint8Array(0)];
    const { body, headerLength } = encodeInferRequestBinary({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 4], data }] }, { binaryOutputs: true });
    const res = await post('/v2/models/identity_bytes/infer', Buffer.from(body), { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      code: 'INVALID_ARGUMENT',
      reason: 'INPUT_DATA_MISMATCH',
      error: "input 'input' (BYTES) element 1 is not valid UTF-8; model 'identity_bytes' takes BYTES as text (its runtime carries them as UTF-8 strings), and other bytes would reach it altered",
    });
  });

  it('refuses BYTES holding a NUL byte for an ONNX model (onnxruntime ends strings at the first NUL: "a\\0b" reached it as "a")', async () => {
    const json = await post('/v2/models/identity_bytes/infer', { inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 4], data: ['ok', 'a\u0000b', '', 'c'] }] });
    expect(json.status).toBe(400);
    expect(json.json()).toEqual({
      code: 'INVALID_ARGUMENT',
      reason: 'INPUT_DATA_MISMATCH',
      error: "input 'input' (BYTES) element 1 holds a NUL byte (0x00) at byte 1; model 'identity_bytes' takes BYTES as text without NUL (its runtime carries them as C strings, which end at the first NUL), and the rest of the element would be dropped",
    });
    const data = [new TextEncoder().encode('ok'), Uint8Array.from([0x00, 0x78]), new Uint8Array(0), new Uint8Array(0)];
    const { body, headerLength } = encodeInferRequestBinary({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 4], data }] }, { binaryOutputs: true });
    const binary = await post('/v2/models/identity_bytes/infer', Buffer.from(body), { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) });
    expect(binary.status).toBe(400);
    expect((binary.json() as { error: string }).error).toMatch(/^input 'input' \(BYTES\) element 1 holds a NUL byte \(0x00\) at byte 0;/);
  });

  it('takes binary inputs and returns binary outputs', async () => {
    const { body, headerLength } = encodeInferRequestBinary(
      { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: new Float32Array(ROWS.flat()) }] },
      { binaryOutputs: true },
    );
    const res = await post('/v2/models/linear/infer', Buffer.from(body), {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(headerLength),
    });
    expect(res.status).toBe(200);
    const length = Number(res.headers['inference-header-content-length']);
    const header = JSON.parse(res.raw.subarray(0, length).toString('utf8')) as { outputs: { parameters: { binary_data_size: number } }[] };
    expect(header.outputs[0]!.parameters.binary_data_size).toBe(2 * 3 * 4);
    const decoded = decodeInferResponseBinary(new Uint8Array(res.raw), length);
    const expected = linearClassifierExpected(WEIGHTS, BIAS, ROWS).probabilities.flat();
    [...(decoded.outputs[1]!.data as Float32Array)].forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  it('mixes binary and JSON outputs per output', async () => {
    const res = await post('/v2/models/linear/infer', {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: ROWS[0] }],
      outputs: [{ name: 'logits', parameters: { binary_data: true } }, { name: 'probabilities' }],
    });
    const length = Number(res.headers['inference-header-content-length']);
    expect(res.raw.length - length).toBe(3 * 4);
    const decoded = decodeInferResponseBinary(new Uint8Array(res.raw), length);
    expect(decoded.outputs.map((o) => o.name)).toEqual(['logits', 'probabilities']);
    expect((decoded.outputs[0]!.data as Float32Array)[0]).toBeCloseTo(linearClassifierExpected(WEIGHTS, BIAS, [ROWS[0]!]).logits[0]![0]!, 5);
  });

  it('carries FP16, which has no JSON encoding of its own, as binary', async () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff]); // 1, -2, 0.5, 65504
    const { body, headerLength } = encodeInferRequestBinary({ inputs: [{ name: 'input', datatype: 'FP16', shape: [1, 4], data: halves }] }, { binaryOutputs: true });
    const res = await post('/v2/models/identity_fp16/infer', Buffer.from(body), { 'inference-header-content-length': String(headerLength) });
    const decoded = decodeInferResponseBinary(new Uint8Array(res.raw), Number(res.headers['inference-header-content-length']));
    expect([...(decoded.outputs[0]!.data as Uint16Array)]).toEqual([...halves]);
  });

  it('accepts the raw mode of a single-input model (header length 0)', async () => {
    const res = await post('/v2/models/linear/infer', Buffer.from(new Float32Array(ROWS[0]!).buffer), { 'inference-header-content-length': '0' });
    expect(res.status).toBe(200);
    const decoded = decodeInferResponseBinary(new Uint8Array(res.raw), Number(res.headers['inference-header-content-length']));
    expect(decoded.outputs[0]!.shape).toEqual([1, 3]);
    expect((decoded.outputs[0]!.data as Float32Array)[2]).toBeCloseTo(linearClassifierExpected(WEIGHTS, BIAS, [ROWS[0]!]).logits[0]![2]!, 5);
  });

  it('rejects a binary section that does not add up', async () => {
    const { body, headerLength } = encodeInferRequestBinary({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) }] });
    const res = await post('/v2/models/linear/infer', Buffer.from(body.subarray(0, body.length - 2)), { 'inference-header-content-length': String(headerLength) });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const bad = await post('/v2/models/linear/infer', Buffer.from(body), { 'inference-header-content-length': 'ten' });
    expect(bad.status).toBe(400);
    expect((bad.json() as { error: string }).error).toContain('Inference-Header-Content-Length');
  });
});

describe('errors name what was wrong and what was expected', () => {
  const input = (over: Record<string, unknown>) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4], ...over }] });
  it.each([
    ['unknown model', '/v2/models/nope/infer', input({}), 404, 'MODEL_NOT_FOUND', /^model 'nope' is not in the repository; list its models with POST \/v2\/repository\/index$/],
    ['unknown version', '/v2/models/linear/versions/9/infer', input({}), 404, 'VERSION_NOT_FOUND', /has no version 9; its versions are 1/],
    ['malformed JSON', '/v2/models/linear/infer', '{"inputs": [', 400, 'MALFORMED_REQUEST', /not valid JSON/],
    ['empty body', '/v2/models/linear/infer', '', 400, 'MALFORMED_REQUEST', /empty/],
    ['no inputs', '/v2/models/linear/infer', { inputs: [] }, 400, 'MALFORMED_REQUEST', /inputs/],
    ['missing input', '/v2/models/addsub/infer', { inputs: [{ name: 'a', datatype: 'INT64', shape: [1, 3], data: [1, 2, 3] }] }, 400, 'INPUT_MISSING', /needs input 'b' \(INT64 \[-1, 3\]\)/],
    ['unknown input', '/v2/models/linear/infer', input({ name: 'feature' }), 400, 'INPUT_UNKNOWN', /has no input 'feature'; its inputs are 'features' \(FP32 \[-1, 4\]\)/],
    ['wrong datatype', '/v2/models/linear/infer', input({ datatype: 'FP64' }), 400, 'INPUT_DATATYPE_MISMATCH', /has datatype FP64; model 'linear' expects FP32/],
    ['unknown datatype', '/v2/models/linear/infer', input({ datatype: 'FLOAT' }), 400, 'MALFORMED_REQUEST', /FLOAT/],
    ['shape not the model\'s', '/v2/models/linear/infer', input({ shape: [1, 5], data: [1, 2, 3, 4, 5] }), 400, 'INPUT_SHAPE_MISMATCH', /has shape \[1, 5\]; model 'linear' expects \[-1, 4\]/],
    ['shape not the data\'s', '/v2/models/linear/infer', input({ shape: [2, 4] }), 400, 'INPUT_DATA_MISMATCH', /8 elements, but data has 4/],
    ['non-numeric value', '/v2/models/linear/infer', input({ data: [1, 'two', 3, 4] }), 400, 'INPUT_DATA_MISMATCH', /element 1 .*two/],
    ['out-of-range integer', '/v2/models/identity_int8/infer', { inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 4], data: [1, 300, 3, 4] }] }, 400, 'INPUT_DATA_MISMATCH', /300.*-128, 127/],
    ['unknown output', '/v2/models/linear/infer', { ...input({}), outputs: [{ name: 'scores' }] }, 400, 'OUTPUT_UNKNOWN', /has no output 'scores'; its outputs are 'logits', 'probabilities'/],
    ['batch disagreement', '/v2/models/addsub/infer', { inputs: [{ name: 'a', datatype: 'INT64', shape: [1, 3], data: [1, 2, 3] }, { name: 'b', datatype: 'INT64', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }] }, 400, 'INPUT_BATCH_MISMATCH', /disagree on the batch size/],
    ['body over the limit', '/v2/models/linear/infer', input({ data: new Array(4000).fill(1), shape: [1000, 4] }), 413, 'BODY_TOO_LARGE', /larger than the limit of 4096 bytes/],
    ['model not ready', '/v2/models/corrupt/infer', input({}), 503, 'MODEL_NOT_READY', /is not ready \(UNAVAILABLE: load failed/],
  ])('%s', async (_name, url, body, status, reason, message) => {
    const res = await post(url, body);
    expect(res.status).toBe(status);
    const error = res.json() as { error: string; reason: string };
    expect(error.reason).toBe(reason);
    expect(error.error).toMatch(message);
  });

  it('a user mistake never breaks the server: the model still answers afterwards', async () => {
    await post('/v2/models/linear/infer', '\u0000\u0001garbage');
    const res = await post('/v2/models/linear/infer', input({}));
    expect(res.status).toBe(200);
  });
});
