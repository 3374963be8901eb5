// TensorFlow Serving's REST API, in process (Fastify inject), over models run by the real
// onnxruntime. Every predict answer is compared with the V2 answer to the same input: the two
// APIs must give the same numbers. Expected values are also computed independently.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInferResponse } from '@sibyl/protocol';
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

const { weights: WEIGHTS, bias: BIAS } = LINEAR_4X3;
const ROWS = [
  [1, 2, 3, 4],
  [-1, 0.5, 0, 2],
];
const EXPECTED = linearClassifierExpected(WEIGHTS, BIAS, ROWS);

let repo: string;
let server: SibylServer;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-tfs-');
  await writeModelRepository(repo, {
    linear: { versions: { 1: linearClassifierModel({ weights: WEIGHTS, bias: BIAS }).bytes } },
    addsub: { versions: { 1: addSubModel().bytes } },
    identity_bytes: { versions: { 1: identityModel('BYTES', ['batch', 2]).bytes } },
    scalar: { versions: { 1: identityModel('FP32', []).bytes } },
    // Version 2 doubles its input: which version answered shows in the numbers.
    labelled: {
      versions: { 1: linearClassifierModel({ weights: [[1], [0]], bias: [0] }).bytes, 2: linearClassifierModel({ weights: [[2], [0]], bias: [0] }).bytes },
      config: 'versionPolicy:\n  all: true\nlabels:\n  stable: 1\n  canary: 2\n',
    },
    corrupt: { versions: { 1: corruptModelBytes() } },
  });
  server = await createTestServer(repo);
}, 120_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

async function send(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const res = await server.http.inject({ method, url, payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.statusCode, json: res.body === '' ? {} : (res.json() as Record<string, unknown>), text: res.body };
}

async function v2(model: string, inputs: unknown[]): Promise<Record<string, number[] | string[]>> {
  const res = await server.http.inject({ method: 'POST', url: `/v2/models/${model}/infer`, payload: JSON.stringify({ inputs }) });
  expect(res.statusCode).toBe(200);
  const decoded = decodeInferResponse(res.body);
  return Object.fromEntries(decoded.outputs.map((o) => [o.name, Array.from(o.data as ArrayLike<number>)]));
}

describe('model status and metadata', () => {
  it('GET /v1/models/{m}: every version with its TF Serving state', async () => {
    expect((await send('GET', '/v1/models/linear')).json).toEqual({ model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
    expect((await send('GET', '/v1/models/linear/versions/1')).json).toEqual((await send('GET', '/v1/models/linear')).json);
    const failed = (await send('GET', '/v1/models/corrupt')).json as { model_version_status: { state: string; status: { error_code: string; error_message: string } }[] };
    expect(failed.model_version_status[0]).toMatchObject({ state: 'END', status: { error_code: 'UNAVAILABLE', error_message: expect.stringMatching(/load failed/) } });
  });

  it('GET /v1/models/{m}/metadata: the serving_default signature with TF dtypes and shapes', async () => {
    const { status, json } = await send('GET', '/v1/models/addsub/metadata');
    expect(status).toBe(200);
    expect(json.model_spec).toEqual({ name: 'addsub', signature_name: '', version: '1' });
    const signature = (json.metadata as { signature_def: { signature_def: { serving_default: Record<string, unknown> } } }).signature_def.signature_def.serving_default;
    expect(signature.method_name).toBe('tensorflow/serving/predict');
    expect(signature.inputs).toMatchObject({ a: { dtype: 'DT_INT64', tensor_shape: { dim: [{ size: '-1' }, { size: '3' }] } } });
    expect(Object.keys(signature.outputs as object).sort()).toEqual(['difference', 'sum']);
    expect((await send('GET', '/v1/models/addsub/versions/1/metadata')).json).toEqual(json);
  });

  it('GET /v1/models lists the models', async () => {
    expect((await send('GET', '/v1/models')).json).toEqual({ models: ['addsub', 'corrupt', 'identity_bytes', 'labelled', 'linear', 'scalar'] });
  });

  it('labels: status and metadata of the version a label points at', async () => {
    expect((await send('GET', '/v1/models/labelled')).json).toMatchObject({ model_version_status: [{ version: '1', state: 'AVAILABLE' }, { version: '2', state: 'AVAILABLE' }] });
    expect((await send('GET', '/v1/models/labelled/labels/canary')).json).toMatchObject({ model_version_status: [{ version: '2' }] });
    expect(((await send('GET', '/v1/models/labelled/labels/stable/metadata')).json.model_spec as { version: string }).version).toBe('1');
  });
});

describe(':predict with labels and versions', () => {
  it.each([
    ['/v1/models/labelled:predict', 3], // the default route: stable
    ['/v1/models/labelled/labels/stable:predict', 3],
    ['/v1/models/labelled/labels/canary:predict', 6],
    ['/v1/models/labelled/versions/2:predict', 6],
  ])('%s → logits %d', async (url, logit) => {
    const { status, json } = await send('POST', url, { instances: [[3, 5]] });
    expect(status).toBe(200);
    expect((json.predictions as { logits: number[] }[])[0]!.logits).toEqual([logit]);
  });
});

describe(':predict gives the numbers of V2', () => {
  it('row format, one input, several outputs: one object per instance', async () => {
    const { status, json } = await send('POST', '/v1/models/linear:predict', { instances: ROWS });
    expect(status).toBe(200);
    const predictions = json.predictions as { logits: number[]; probabilities: number[] }[];
    const same = await v2('linear', [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: ROWS.flat() }]);
    expect(predictions.flatMap((p) => p.logits)).toEqual(same.logits);
    expect(predictions.flatMap((p) => p.probabilities)).toEqual(same.probabilities);
    predictions.forEach((p, r) => p.probabilities.forEach((v, k) => expect(v).toBeCloseTo(EXPECTED.probabilities[r]![k]!, 6)));
  });

  it('row format with named inputs, columnar format, and a version path: all the same numbers', async () => {
    const rows = await send('POST', '/v1/models/linear/versions/1:predict', { signature_name: 'serving_default', instances: ROWS.map((r) => ({ features: r })) });
    const columns = await send('POST', '/v1/models/linear:predict', { inputs: { features: ROWS } });
    const bare = await send('POST', '/v1/models/linear:predict', { inputs: ROWS });
    expect(columns.json).toEqual(bare.json);
    const outputs = columns.json.outputs as { logits: number[][]; probabilities: number[][] };
    expect(outputs.logits).toEqual((rows.json.predictions as { logits: number[] }[]).map((p) => p.logits));
    expect(outputs.probabilities.flat()).toEqual((await v2('linear', [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: ROWS.flat() }])).probabilities);
  });

  it('INT64 exact beyond 2^53, two inputs by name', async () => {
    const text = '{"instances":[{"a":[9007199254740993,-9223372036854775807,1],"b":[2,-1,-1]}]}';
    const { status, text: body } = await send('POST', '/v1/models/addsub:predict', text);
    expect(status).toBe(200);
    expect(body).toBe('{"predictions":[{"sum":[9007199254740995,-9223372036854775808,0],"difference":[9007199254740991,-9223372036854775806,2]}]}');
  });

  it('BYTES as strings and as {"b64": …}', async () => {
    const { json } = await send('POST', '/v1/models/identity_bytes:predict', { instances: [['héllo', { b64: Buffer.from('wörld').toString('base64') }]] });
    expect(json).toEqual({ predictions: [['héllo', 'wörld']] });
  });

  it('{"b64": …} in the URL-safe alphabet and without padding too', async () => {
    const b64 = Buffer.from('wö?>>').toString('base64url');
    expect(b64).toMatch(/[-_]/);
    const { json } = await send('POST', '/v1/models/identity_bytes:predict', { instances: [[{ b64 }, { b64: Buffer.from('ab').toString('base64').replace(/=+$/, '') }]] });
    expect(json).toEqual({ predictions: [['wö?>>', 'ab']] });
  });

  it('a model without a batch dimension, columnar: a scalar in, a scalar out', async () => {
    expect((await send('POST', '/v1/models/scalar:predict', { inputs: 2.5 })).json).toEqual({ outputs: 2.5 });
  });
});

describe('errors: {"error": …} with the shared status codes', () => {
  it.each([
    ['/v1/models/nope:predict', { instances: ROWS }, 404, 'MODEL_NOT_FOUND', /model 'nope' is not in the repository/],
    ['/v1/models/linear/versions/7:predict', { instances: ROWS }, 404, 'VERSION_NOT_FOUND', /has no version 7/],
    ['/v1/models/linear/labels/stable:predict', { instances: ROWS }, 404, 'LABEL_NOT_FOUND', /stable/],
    ['/v1/models/corrupt:predict', { instances: [[1, 2, 3, 4]] }, 503, 'MODEL_NOT_READY', /not ready/],
    ['/v1/models/linear:predict', { instances: ROWS, inputs: ROWS }, 400, 'MALFORMED_REQUEST', /both "instances" and "inputs"/],
    ['/v1/models/linear:predict', {}, 400, 'MALFORMED_REQUEST', /neither "instances" nor "inputs"/],
    ['/v1/models/linear:predict', { instances: [] }, 400, 'MALFORMED_REQUEST', /"instances" is empty/],
    ['/v1/models/linear:predict', { instances: [[1, 2, 3, 4], [1, 2]] }, 400, 'INPUT_SHAPE_MISMATCH', /ragged/],
    ['/v1/models/linear:predict', { instances: [[1, 2, 3]] }, 400, 'INPUT_SHAPE_MISMATCH', /expects \[-1, 4\]/],
    ['/v1/models/linear:predict', { instances: [[1, 2, 'x', 4]] }, 400, 'INPUT_DATA_MISMATCH', /element 2 is "x"; expected a number/],
    ['/v1/models/linear:predict', { instances: [{ feature: [1, 2, 3, 4] }] }, 400, 'INPUT_UNKNOWN', /names input 'feature'/],
    ['/v1/models/addsub:predict', { instances: [[1, 2, 3]] }, 400, 'MALFORMED_REQUEST', /one input; this model has 2/],
    ['/v1/models/linear:predict', { signature_name: 'other', instances: ROWS }, 400, 'MALFORMED_REQUEST', /signature_name is "other"/],
    ['/v1/models/linear:predict', 'not json', 400, 'MALFORMED_REQUEST', /not valid JSON/],
    // TF Serving refuses base64 it cannot decode; Node's decoder would skip the bad characters.
    ['/v1/models/identity_bytes:predict', { instances: [['a', { b64: 'aGV%sbG8=' }]] }, 400, 'INPUT_DATA_MISMATCH', /input 'input' \(BYTES\) element 1 is \{"b64": "aGV%sbG8="\}, which is not valid base64: the character '%' at position 3/],
    ['/v1/models/identity_bytes:predict', { inputs: [[{ b64: 'aGVsb' }, 'b']] }, 400, 'INPUT_DATA_MISMATCH', /element 0 .* not valid base64: 5 characters of data/],
    ['/v1/models/linear:predict', { instances: JSON.parse('['.repeat(70) + '1' + ']'.repeat(70)) as unknown }, 400, 'REQUEST_LIMIT_EXCEEDED', /input 'features''s nesting has more than 64 dimensions; at most 64/],
    ['/v1/models/identity_bytes:predict', { instances: new Array(32_769).fill(['a', 'b']) }, 400, 'REQUEST_LIMIT_EXCEEDED', /input 'input' has 65538 BYTES elements; at most 65536/],
    ['/v1/models/linear:predict', { inputs: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`x${i}`, [1]])) }, 400, 'REQUEST_LIMIT_EXCEEDED', /"inputs" has 5000 inputs; at most 4096/],
    ['/v1/models/linear:classify', { examples: [] }, 501, 'NOT_SUPPORTED', /:classify/],
    ['/v1/models/linear:explode', { instances: ROWS }, 404, 'ROUTE_NOT_FOUND', /:predict/],
  ])('POST %s → %i %s', async (url, body, status, reason, message) => {
    const res = await send('POST', url, body);
    expect(res.status).toBe(status);
    expect(res.json.reason).toBe(reason);
    expect(res.json.error).toMatch(message);
  });

  it.each([
    ['/v1/models/nope', 404, 'MODEL_NOT_FOUND'],
    ['/v1/models/linear/versions/3', 404, 'VERSION_NOT_FOUND'],
    ['/v1/models/linear/labels/canary/metadata', 404, 'LABEL_NOT_FOUND'],
    ['/v1/models/linear/labels/canary', 404, 'LABEL_NOT_FOUND'],
    ['/v1/models/linear/colours/red', 404, 'ROUTE_NOT_FOUND'],
  ])('GET %s → %i %s', async (url, status, reason) => {
    const res = await send('GET', url);
    expect(res.status).toBe(status);
    expect(res.json.reason).toBe(reason);
  });
});
