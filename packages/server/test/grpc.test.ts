// The gRPC frontend against an in-process server on a free port, spoken to by a plain grpc-js
// client built from the protocol's .proto (not Sibyl's client), over a repository of models
// built in code and run by the real onnxruntime. Expected values are computed independently.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_LOADER_OPTIONS, REQUEST_LIMITS } from '@sibyl/protocol';
import type { SibylServer } from '../src/server.ts';
import {
  ManualClock,
  addSubModel,
  corruptModelBytes,
  createTestServer,
  identityModel,
  linearClassifierExpected,
  linearClassifierModel,
  makeTempDir,
  removeDir,
  slowModel,
  writeModelRepository,
} from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';

const { weights: WEIGHTS, bias: BIAS } = LINEAR_4X3;
const ROWS = [
  [1, 2, 3, 4],
  [-1, 0.5, 0, 2],
];
const EXPECTED = linearClassifierExpected(WEIGHTS, BIAS, ROWS);
const SLOW = { size: 2048, depth: 100 };

type Message = Record<string, unknown>;
type Unary = (request: Message, options?: grpc.CallOptions) => Promise<Message>;

let repo: string;
let server: SibylServer;
let address: string;
let inference: grpc.Client;
let health: grpc.Client;
let reflection: grpc.Client;

function loadClient(file: string, service: string, includeDirs: string[]): grpc.ServiceClientConstructor {
  const definition = grpc.loadPackageDefinition(loadSync(file, { ...GRPC_LOADER_OPTIONS, includeDirs }));
  return service.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], definition) as grpc.ServiceClientConstructor;
}

function rpc(client: grpc.Client, method: string): Unary {
  return (request, options = {}) =>
    new Promise((resolve, reject) =>
      (client as unknown as Record<string, (r: Message, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Message) => void) => void>)[method]!(
        request,
        new grpc.Metadata(),
        options,
        (err, response) => (err === null ? resolve(response) : reject(err)),
      ),
    );
}

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (e) {
    return e as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** Waits until `condition` holds (checked every 5 ms). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const call = (method: string, request: Message = {}, options?: grpc.CallOptions) => rpc(inference, method)(request, options);
const f32 = (bytes: Uint8Array) => [...new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))];
const rawFeatures = (rows: number[][]) => Buffer.from(new Float32Array(rows.flat()).buffer);
const closeTo = (actual: number[], expected: number[]) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
};

beforeAll(async () => {
  repo = await makeTempDir('sibyl-grpc-');
  await writeModelRepository(repo, {
    linear: { versions: { 1: linearClassifierModel({ weights: WEIGHTS, bias: BIAS }).bytes } },
    addsub: { versions: { 1: addSubModel().bytes } },
    strings: { versions: { 1: identityModel('BYTES', ['batch', 3]).bytes } },
    labelled: {
      versions: { 1: identityModel('FP32', ['batch', 2]).bytes, 2: identityModel('FP32', ['batch', 2]).bytes },
      config: 'versionPolicy:\n  all: true\nlabels:\n  stable: 1\n  canary: 2\n',
    },
    corrupt: { versions: { 1: corruptModelBytes() } },
    slow: { versions: { 1: slowModel(SLOW).bytes }, config: 'maxBatchSize: 64\ndynamicBatching:\n  enabled: false\nexecutionsPerInstance: 1\n' },
  });
  // An endpoint in front of a model: gRPC goes through the router like REST.
  server = await createTestServer(repo, {
    endpoints: {
      front: { target: { model: 'labelled', label: 'canary' } },
      // A hybrid endpoint answers stored predictions by key: its requests may have no inputs.
      scores: { hybrid: { target: { model: 'linear' }, key: { parameter: 'customer_id' }, maxAgeMs: 3_600_000 } },
    } as never,
  });
  await server.predictionStore.commitChunk('job', 0, [{ model: 'linear', key: 'c1', version: '1', jobId: 'job', createdAtMs: Date.now(), outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [3], data: [0.25, 0.5, 0.25] }] }]);
  const port = await server.grpc.listen('127.0.0.1', 0);
  address = `127.0.0.1:${port}`;
  const protoDir = fileURLToPath(new URL('../../protocol/proto/', import.meta.url));
  const Inference = loadClient('grpc_service.proto', 'inference.GRPCInferenceService', [protoDir]);
  inference = new Inference(address, grpc.credentials.createInsecure());
  const healthProto = fileURLToPath(import.meta.resolve('grpc-health-check/proto/health/v1/health.proto'));
  health = new (loadClient(healthProto, 'grpc.health.v1.Health', []))(address, grpc.credentials.createInsecure());
  const reflectionProto = fileURLToPath(new URL('../proto/grpc/reflection/v1/reflection.proto', import.meta.resolve('@grpc/reflection')));
  reflection = new (loadClient(reflectionProto, 'grpc.reflection.v1.ServerReflection', []))(address, grpc.credentials.createInsecure());
}, 120_000);

describe('gRPC requests without inputs', () => {
  it('reach a hybrid endpoint, which answers the stored prediction of the key', async () => {
    const response = (await call('ModelInfer', { model_name: 'scores', parameters: { customer_id: { string_param: 'c1' } } })) as {
      model_name: string;
      outputs: { name: string; shape: string[]; contents?: { fp32_contents: number[] } }[];
      raw_output_contents?: Uint8Array[];
      parameters: Record<string, Message>;
    };
    expect(response.model_name).toBe('linear');
    expect(response.parameters.sibyl_source).toMatchObject({ string_param: 'store' });
    expect(response.outputs.map((o) => [o.name, o.shape.map(Number)])).toEqual([['probabilities', [1, 3]]]);
    expect(response.outputs[0]!.contents?.fp32_contents ?? f32(response.raw_output_contents![0]!)).toEqual([0.25, 0.5, 0.25]);
  });

  it('are refused for a model, naming what is missing', async () => {
    const err = await failure(call('ModelInfer', { model_name: 'linear', parameters: { customer_id: { string_param: 'c1' } } }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toBe('ModelInferRequest.inputs is empty; expected at least one input tensor');
  });
});

afterAll(async () => {
  for (const c of [inference, health, reflection]) c?.close();
  await server?.shutdown();
  await removeDir(repo);
});

describe('server RPCs', () => {
  it('ServerLive, ServerReady and ServerMetadata', async () => {
    expect(await call('ServerLive')).toEqual({ live: true });
    expect(await call('ServerReady')).toEqual({ ready: true });
    expect(await call('ServerMetadata')).toEqual({ name: 'sibyl', version: server.version, extensions: expect.arrayContaining(['binary_tensor_data', 'statistics']) });
  });

  it('the standard health service says SERVING for the server and for inference.GRPCInferenceService, NOT_FOUND for others', async () => {
    expect(await rpc(health, 'Check')({ service: '' })).toEqual({ status: 'SERVING' });
    expect(await rpc(health, 'Check')({ service: 'inference.GRPCInferenceService' })).toEqual({ status: 'SERVING' });
    expect((await failure(rpc(health, 'Check')({ service: 'nope' }))).code).toBe(grpc.status.NOT_FOUND);
  });

  it('server reflection lists the services, so grpcurl needs no .proto', async () => {
    const stream = (reflection as unknown as { ServerReflectionInfo: () => grpc.ClientDuplexStream<Message, Message> }).ServerReflectionInfo();
    const answer = new Promise<Message>((resolve, reject) => stream.once('data', resolve).once('error', reject));
    stream.write({ list_services: '' });
    const response = await answer;
    stream.end();
    const names = ((response.list_services_response as { service: { name: string }[] }).service ?? []).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['inference.GRPCInferenceService', 'grpc.health.v1.Health']));
  });
});

describe('model RPCs', () => {
  it('ModelReady: true when ready; false (not an error) for a model that failed, is unknown or lacks the version', async () => {
    expect(await call('ModelReady', { name: 'linear' })).toEqual({ ready: true });
    expect(await call('ModelReady', { name: 'linear', version: '1' })).toEqual({ ready: true });
    for (const request of [{ name: 'corrupt' }, { name: 'nope' }, { name: 'linear', version: '9' }, { name: 'linear', version: 'canary' }]) {
      expect(await call('ModelReady', request)).toEqual({ ready: false });
    }
    expect((await failure(call('ModelReady', { name: '' }))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('names that would leave the model repository are INVALID_ARGUMENT (NAME_INVALID) on every RPC that takes one', async () => {
    const input = { name: 'input', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 2] } };
    for (const [method, request] of [
      ['ModelReady', { name: '../linear' }],
      ['ModelMetadata', { name: '..' }],
      ['ModelStatistics', { name: 'a\\b' }],
      ['ModelInfer', { model_name: '../../etc/passwd', inputs: [input] }],
      ['RepositoryModelLoad', { model_name: '../x' }],
      ['RepositoryModelUnload', { model_name: 'a\u0000b' }],
    ] as const) {
      const err = await failure(call(method, request));
      expect(err.code, method).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details, method).toMatch(/name .* (contains|is '\.\.')/);
    }
    // A version is a number or a label name, never a path.
    const version = await failure(call('ModelInfer', { model_name: 'linear', model_version: '../1', inputs: [input] }));
    expect(version.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('a label stands where the version goes (model_version "stable", "canary"), and an endpoint name where the model goes', async () => {
    const request = (version: string) => ({ model_name: 'labelled', model_version: version, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 2] } }] });
    expect(await call('ModelInfer', request('stable'))).toMatchObject({ model_version: '1' });
    expect(await call('ModelInfer', request('canary'))).toMatchObject({ model_version: '2' });
    expect(await call('ModelInfer', request(''))).toMatchObject({ model_version: '1' }); // the default route: stable
    expect(await call('ModelMetadata', { name: 'labelled', version: 'canary' })).toMatchObject({ versions: ['1', '2'] });
    const front = { ...request(''), model_name: 'front' };
    expect(await call('ModelInfer', front)).toMatchObject({ model_version: '2' }); // the endpoint's target: labelled@canary
    expect(await call('ModelReady', { name: 'front' })).toEqual({ ready: true });
    expect(await call('ModelMetadata', { name: 'front' })).toMatchObject({ name: 'front', versions: ['1', '2'] });
    const err = await failure(call('ModelInfer', request('beta')));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.metadata.get('sibyl-reason')).toEqual(['LABEL_NOT_FOUND']);
  });

  it('ModelMetadata: versions, platform, inputs and outputs with -1 for variable dimensions', async () => {
    expect(await call('ModelMetadata', { name: 'linear' })).toEqual({
      name: 'linear',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: ['-1', '4'] }],
      outputs: [
        { name: 'logits', datatype: 'FP32', shape: ['-1', '3'] },
        { name: 'probabilities', datatype: 'FP32', shape: ['-1', '3'] },
      ],
    });
  });

  it.each([
    [{ name: 'nope' }, grpc.status.NOT_FOUND, 'MODEL_NOT_FOUND', /model 'nope' is not in the repository/],
    [{ name: 'corrupt' }, grpc.status.UNAVAILABLE, 'MODEL_NOT_READY', /model 'corrupt' is not ready \(UNAVAILABLE: load failed/],
    [{ name: '' }, grpc.status.INVALID_ARGUMENT, 'MALFORMED_REQUEST', /name is empty/],
  ])('ModelMetadata %j → status %i with sibyl-reason %s and the message', async (request, code, reason, message) => {
    const err = await failure(call('ModelMetadata', request));
    expect(err.code).toBe(code);
    expect(err.metadata.get('sibyl-reason')).toEqual([reason]);
    expect(err.details).toMatch(message);
  });

  it("ModelConfig: Triton's configuration, dims without the batch dimension", async () => {
    const { config } = await call('ModelConfig', { name: 'linear' });
    expect(config).toMatchObject({
      name: 'linear',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      max_batch_size: 64,
      input: [{ name: 'features', data_type: 'TYPE_FP32', dims: ['4'] }],
      output: [
        { name: 'logits', data_type: 'TYPE_FP32', dims: ['3'] },
        { name: 'probabilities', data_type: 'TYPE_FP32', dims: ['3'] },
      ],
      instance_group: [{ kind: 'KIND_CPU', count: 1 }],
    });
  });

  it('RepositoryIndex: every version with its state and reason; ready: true keeps the ready ones', async () => {
    const { models } = (await call('RepositoryIndex')) as { models: Message[] };
    expect(models.find((m) => m.name === 'corrupt')).toMatchObject({ version: '1', state: 'UNAVAILABLE', reason: expect.stringMatching(/load failed/) });
    const ready = (await call('RepositoryIndex', { ready: true })) as { models: Message[] };
    expect([...new Set(ready.models.map((m) => m.name))].sort()).toEqual(['addsub', 'labelled', 'linear', 'slow', 'strings']);
    expect((await failure(call('RepositoryIndex', { repository_name: 'other' }))).code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('RepositoryModelLoad / RepositoryModelUnload: FAILED_PRECONDITION unless the model control mode is explicit', async () => {
    for (const method of ['RepositoryModelLoad', 'RepositoryModelUnload']) {
      const err = await failure(call(method, { model_name: 'linear' }));
      expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(err.metadata.get('sibyl-reason')).toEqual(['MODEL_CONTROL_DISABLED']);
      expect(err.details).toMatch(/--model-control-mode explicit/);
    }
  });
});

describe('ModelInfer', () => {
  it('raw_input_contents in → raw_output_contents out, with the model name, version and id', async () => {
    const response = await call('ModelInfer', {
      model_name: 'linear',
      id: 'g-1',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4] }],
      raw_input_contents: [rawFeatures(ROWS)],
    });
    expect(response).toMatchObject({ model_name: 'linear', model_version: '1', id: 'g-1' });
    const outputs = response.outputs as { name: string; shape: string[] }[];
    expect(outputs.map((o) => [o.name, o.shape])).toEqual([
      ['logits', ['2', '3']],
      ['probabilities', ['2', '3']],
    ]);
    const raw = response.raw_output_contents as Buffer[];
    closeTo(f32(raw[0]!), EXPECTED.logits.flat());
    closeTo(f32(raw[1]!), EXPECTED.probabilities.flat());
  });

  it('typed contents in → typed contents out; output selection; INT64 exact beyond 2^53', async () => {
    const a = ['9007199254740993', '-9223372036854775807', '1'];
    const b = ['2', '-1', '-1'];
    const response = await call('ModelInfer', {
      model_name: 'addsub',
      inputs: [
        { name: 'a', datatype: 'INT64', shape: [1, 3], contents: { int64_contents: a } },
        { name: 'b', datatype: 'INT64', shape: [1, 3], contents: { int64_contents: b } },
      ],
      outputs: [{ name: 'difference' }],
    });
    expect(response.raw_output_contents).toBeUndefined();
    expect(response.outputs).toEqual([{ name: 'difference', datatype: 'INT64', shape: ['1', '3'], contents: { int64_contents: a.map((x, i) => String(BigInt(x) - BigInt(b[i]!))) } }]);
  });

  it('BYTES as typed bytes_contents', async () => {
    const words = ['héllo', '', 'x'].map((s) => Buffer.from(s));
    const response = await call('ModelInfer', { model_name: 'strings', inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 3], contents: { bytes_contents: words } }] });
    const contents = (response.outputs as { contents: { bytes_contents: Buffer[] } }[])[0]!.contents.bytes_contents;
    expect(contents.map((b) => b.toString())).toEqual(['héllo', '', 'x']);
  });

  it.each([
    ['an unknown input', { inputs: [{ name: 'feature', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }] }, 'INVALID_ARGUMENT', 'INPUT_UNKNOWN', /has no input 'feature'/],
    ['a wrong shape', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 5], contents: { fp32_contents: [1, 2, 3, 4, 5] } }] }, 'INVALID_ARGUMENT', 'INPUT_SHAPE_MISMATCH', /expects \[-1, 4\]/],
    ['the wrong contents field', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], contents: { int_contents: [1, 2, 3, 4] } }] }, 'INVALID_ARGUMENT', 'INPUT_DATA_MISMATCH', /goes in contents.fp32_contents/],
    ['raw bytes that do not fit', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [Buffer.alloc(12)] }, 'INVALID_ARGUMENT', 'INPUT_DATA_MISMATCH', /takes 16 bytes/],
    ['an unknown output', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }], outputs: [{ name: 'nope' }] }, 'INVALID_ARGUMENT', 'OUTPUT_UNKNOWN', /has no output 'nope'/],
    ['a bad timeout parameter', { parameters: { timeout: { string_param: 'soon' } }, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }] }, 'INVALID_ARGUMENT', 'PARAMETER_INVALID', /parameter 'timeout'/],
  ])('refuses %s: %s with sibyl-reason %s', async (_name, request, code, reason, message) => {
    const err = await failure(call('ModelInfer', { model_name: 'linear', ...request }));
    expect(err.code).toBe(grpc.status[code as keyof typeof grpc.status]);
    expect(err.metadata.get('sibyl-code')).toEqual([code]);
    expect(err.metadata.get('sibyl-reason')).toEqual([reason]);
    expect(err.details).toMatch(message);
  });

  it('refuses bytes_contents that are not UTF-8 for an ONNX model (onnxruntime carries strings as text)', async () => {
    const words = [Buffer.from('a'), Buffer.from([0xff, 0xfe]), Buffer.from('c')];
    const err = await failure(call('ModelInfer', { model_name: 'strings', inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 3], contents: { bytes_contents: words } }] }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.metadata.get('sibyl-reason')).toEqual(['INPUT_DATA_MISMATCH']);
    expect(err.details).toMatch(/^input 'input' \(BYTES\) element 1 is not valid UTF-8; model 'strings' takes BYTES as text/);
  });

  it('UNAVAILABLE for a model that failed to load, NOT_FOUND for an unknown one', async () => {
    const request = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }] };
    expect((await failure(call('ModelInfer', { model_name: 'corrupt', ...request }))).code).toBe(grpc.status.UNAVAILABLE);
    expect((await failure(call('ModelInfer', { model_name: 'nope', ...request }))).code).toBe(grpc.status.NOT_FOUND);
  });

  it('honours deadlines: a request whose deadline passes while queued is never run', async () => {
    const rows = 64;
    const slowRequest = (id: string) => ({ model_name: 'slow', id, inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, SLOW.size] }], raw_input_contents: [Buffer.alloc(rows * SLOW.size * 4)] });
    const before = ((await call('ModelStatistics', { name: 'slow' })).model_stats as { execution_count?: string }[])[0]!.execution_count ?? '0';
    // The first request occupies the only instance (~200 ms) for longer than the second's deadline.
    const first = call('ModelInfer', slowRequest('first'));
    await until(() => server.inference.pending === 1 && server.models.resolve('slow').queueDepth === 0); // running, not queued
    const second = await failure(call('ModelInfer', slowRequest('second'), { deadline: Date.now() + 50 }));
    expect(second.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect((await first).id).toBe('first');
    const stats = ((await call('ModelStatistics', { name: 'slow' })).model_stats as { execution_count: string; inference_count: string }[])[0]!;
    expect(Number(stats.execution_count) - Number(before)).toBe(1);
  });

  it('ModelStatistics counts inferences and executions, per model and for all', async () => {
    const { model_stats } = (await call('ModelStatistics', { name: 'linear', version: '1' })) as { model_stats: Message[] };
    expect(model_stats).toHaveLength(1);
    expect(model_stats[0]).toMatchObject({ name: 'linear', version: '1', inference_stats: { success: { count: expect.any(String) } } });
    expect(Number(model_stats[0]!.inference_count)).toBeGreaterThanOrEqual(2);
    const all = (await call('ModelStatistics')) as { model_stats: Message[] };
    expect(all.model_stats.map((s) => `${s.name}/${s.version}`).sort()).toEqual(['addsub/1', 'labelled/1', 'labelled/2', 'linear/1', 'slow/1', 'strings/1']);
  });
});

describe('ModelStreamInfer', () => {
  it('answers every request on the stream, errors as error_message, and ends after the last answer', async () => {
    const stream = (inference as unknown as { ModelStreamInfer: () => grpc.ClientDuplexStream<Message, Message> }).ModelStreamInfer();
    const answers: Message[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (m: Message) => answers.push(m));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    const request = (id: string, rows: number[][]) => ({
      model_name: 'linear',
      id,
      inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, rows[0]!.length] }],
      raw_input_contents: [rawFeatures(rows)],
    });
    stream.write(request('s-1', [ROWS[0]!]));
    stream.write(request('s-bad', [[1, 2, 3]]));
    stream.write(request('s-2', [ROWS[1]!]));
    stream.end();
    await done;
    expect(answers).toHaveLength(3);
    const byId = new Map(answers.map((a) => [(a.infer_response as Message).id, a]));
    const bad = byId.get('s-bad')!;
    expect(bad.error_message).toMatch(/has shape \[1, 3\]; model 'linear' expects \[-1, 4\]/);
    expect((bad.infer_response as { parameters: Message }).parameters).toMatchObject({ sibyl_error_reason: { string_param: 'INPUT_SHAPE_MISMATCH' } });
    for (const [id, row] of [['s-1', 0], ['s-2', 1]] as const) {
      const answer = byId.get(id)!;
      expect(answer.error_message ?? '').toBe('');
      closeTo(f32((answer.infer_response as { raw_output_contents: Buffer[] }).raw_output_contents[1]!), EXPECTED.probabilities[row]!);
    }
  });
});

describe('hostile requests', () => {
  const features = (name: string) => ({ name, datatype: 'FP32', shape: ['1', '4'], contents: { fp32_contents: [1, 2, 3, 4] } });
  const identity = (b: Buffer) => b;
  const service = () => (inference.constructor as grpc.ServiceClientConstructor).service;

  /** A unary call whose request is these bytes, not a message. */
  function rawCall(method: string, bytes: Buffer): Promise<Message> {
    const definition = service()[method]!;
    return new Promise((resolve, reject) =>
      inference.makeUnaryRequest(definition.path, identity, definition.responseDeserialize as (b: Buffer) => Message, bytes, (err, response) => (err === null ? resolve(response!) : reject(err))),
    );
  }

  it('50k inputs (issue 13 H2: 10.7 s of event loop) are refused by their count with INVALID_ARGUMENT REQUEST_LIMIT_EXCEEDED', async () => {
    const err = await failure(call('ModelInfer', { model_name: 'linear', inputs: Array.from({ length: 50_000 }, (_, i) => features(`x${i}`)) }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.metadata.get('sibyl-reason')).toEqual(['REQUEST_LIMIT_EXCEEDED']);
    expect(err.details).toBe(`ModelInferRequest has more than ${REQUEST_LIMITS.maxInputs} inputs; at most ${REQUEST_LIMITS.maxInputs} are accepted (a limit of the server's protocol decoder, far above what a model's signature needs)`);
    expect(await call('ServerLive')).toEqual({ live: true });
  });

  it('2M empty bytes_contents (4 MB; decoding them took 8.5 s and 0.5 GB) are refused on the wire bytes, before protobuf decodes them', async () => {
    const n = 2_000_000;
    const entries = Buffer.alloc(2 * n);
    for (let i = 0; i < n; i++) entries[2 * i] = (8 << 3) | 2; // bytes_contents, length 0
    const varint = (v: number): number[] => (v < 128 ? [v] : [(v & 127) | 128, ...varint(v >>> 7)]);
    const contents = Buffer.concat([Buffer.from([(5 << 3) | 2, ...varint(entries.length)]), entries]);
    const input = Buffer.concat([Buffer.from([(5 << 3) | 2, ...varint(contents.length)]), contents]);
    const message = Buffer.concat([Buffer.from([0x0a, 7, ...Buffer.from('strings')]), input]);
    const err = await failure(rawCall('ModelInfer', message));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.metadata.get('sibyl-reason')).toEqual(['REQUEST_LIMIT_EXCEEDED']);
    expect(err.details).toMatch(/^ModelInferRequest \(up to inputs\[0\]\.contents\.bytes_contents\) has more than 65536 BYTES elements/);
  });

  it.each([
    ['ModelInfer', Buffer.from([0x0a, 0xff])], // a truncated length
    ['ModelInfer', Buffer.from([0x3a, 0x05, 0x61])], // raw_input_contents longer than the message
    ['ModelMetadata', Buffer.from([0x80])], // a truncated tag
  ])('a %s message that is not protobuf (%o) gets INVALID_ARGUMENT MALFORMED_REQUEST, not INTERNAL', async (method, bytes) => {
    const err = await failure(rawCall(method, bytes));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.metadata.get('sibyl-reason')).toEqual(['MALFORMED_REQUEST']);
    expect(err.details).toMatch(new RegExp(`^the ${method} request message is not valid protobuf \\(.+\\); expected a message of proto/grpc_service.proto$`));
  });

  it('a message on ModelStreamInfer that is not protobuf is answered with MALFORMED_REQUEST, and the stream goes on', async () => {
    const definition = service().ModelStreamInfer!;
    const stream = inference.makeBidiStreamRequest(definition.path, identity, definition.responseDeserialize as (b: Buffer) => Message);
    const answers: Message[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (m: Message) => answers.push(m));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write(Buffer.from([0x0f]));
    stream.write(Buffer.from(definition.requestSerialize({ model_name: 'linear', id: 'ok', inputs: [features('features')] })));
    stream.end();
    await done;
    expect(answers).toHaveLength(2);
    const bad = answers.find((a) => (a.error_message ?? '') !== '')!;
    expect(bad.error_message).toMatch(/^the ModelStreamInfer request message is not valid protobuf/);
    expect((bad.infer_response as { parameters: Message }).parameters).toMatchObject({ sibyl_error_reason: { string_param: 'MALFORMED_REQUEST' } });
    expect(answers.some((a) => (a.infer_response as Message).id === 'ok' && (a.error_message ?? '') === '')).toBe(true);
  });

  it.each([
    ['-5', { int64_param: '-5' }, '-5'],
    ['1.5', { double_param: 1.5 }, '1.5'],
  ])('timeout %s is refused as over REST, even when the call has a deadline (which used to replace it)', async (_name, timeout, shown) => {
    const request = { model_name: 'linear', parameters: { timeout }, inputs: [features('features')] };
    for (const options of [{}, { deadline: Date.now() + 30_000 }]) {
      const err = await failure(call('ModelInfer', request, options));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.metadata.get('sibyl-reason')).toEqual(['PARAMETER_INVALID']);
      expect(err.details).toBe(`parameter 'timeout' is ${shown}; expected a non-negative integer (microseconds)`);
    }
    const rest = await server.http.inject({ method: 'POST', url: '/v2/models/linear/infer', payload: { parameters: { timeout: Number(shown) }, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] } });
    expect(rest.statusCode).toBe(400);
    expect(rest.json()).toMatchObject({ reason: 'PARAMETER_INVALID', error: `parameter 'timeout' is ${shown}; expected a non-negative integer (microseconds)` });
  });
});

describe('explicit model control over gRPC', () => {
  let explicit: SibylServer;
  let client: grpc.Client;
  const ecall = (method: string, request: Message = {}) => rpc(client, method)(request);

  beforeAll(async () => {
    explicit = await createTestServer(repo, { modelControlMode: 'explicit' });
    const port = await explicit.grpc.listen('127.0.0.1', 0);
    client = new (loadClient('grpc_service.proto', 'inference.GRPCInferenceService', [fileURLToPath(new URL('../../protocol/proto/', import.meta.url))]))(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    );
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await explicit?.shutdown();
  });

  it('RepositoryModelLoad makes a model ready (with a config parameter); RepositoryModelUnload takes it away', async () => {
    expect(await ecall('ModelReady', { name: 'linear' })).toEqual({ ready: false });
    await ecall('RepositoryModelLoad', { model_name: 'linear', parameters: { config: { string_param: '{"maxBatchSize": 8}' } } });
    expect(await ecall('ModelReady', { name: 'linear' })).toEqual({ ready: true });
    expect(((await ecall('ModelConfig', { name: 'linear' })).config as Message).max_batch_size).toBe(8);
    const response = await ecall('ModelInfer', { model_name: 'linear', inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4] }], raw_input_contents: [rawFeatures(ROWS)] });
    closeTo(f32((response.raw_output_contents as Buffer[])[1]!), EXPECTED.probabilities.flat());
    await ecall('RepositoryModelUnload', { model_name: 'linear' });
    expect(await ecall('ModelReady', { name: 'linear' })).toEqual({ ready: false });
  });

  it('refuses model files in the parameters, a model that is not in the repository, and a config that is not JSON', async () => {
    const files = await failure(ecall('RepositoryModelLoad', { model_name: 'linear', parameters: { 'file:1/model.onnx': { bytes_param: Buffer.from('x') } } }));
    expect(files.code).toBe(grpc.status.UNIMPLEMENTED);
    expect((await failure(ecall('RepositoryModelLoad', { model_name: 'nope' }))).code).toBe(grpc.status.NOT_FOUND);
    const config = await failure(ecall('RepositoryModelLoad', { model_name: 'linear', parameters: { config: { string_param: '{oops' } } }));
    expect(config.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(config.details).toMatch(/parameters.config is not valid JSON/);
  });

  it('RepositoryModelLoad whose reload fails is FAILED_PRECONDITION naming the version that keeps serving', async () => {
    await ecall('RepositoryModelLoad', { model_name: 'linear' });
    const bad = await failure(ecall('RepositoryModelLoad', { model_name: 'linear', parameters: { config: { string_param: '{"warmup": {"samplesFile": "nonexistent-samples.json"}}' } } }));
    expect(bad.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(bad.details).toMatch(/^model 'linear' failed to load: version 1: reload with changed files or config failed, the earlier load keeps serving: warm-up failed: .*; version 1 keeps serving$/);
    expect(await ecall('ModelReady', { name: 'linear' })).toEqual({ ready: true });
    await ecall('RepositoryModelUnload', { model_name: 'linear' });
  });
});

describe('limits and graceful shutdown', () => {
  it('refuses a message over grpc.maxMessageBytes with RESOURCE_EXHAUSTED, and keeps serving', async () => {
    const small = await createTestServer(repo, { grpc: { port: 0, maxMessageBytes: 64 * 1024 } });
    const port = await small.grpc.listen('127.0.0.1', 0);
    const client = new (loadClient('grpc_service.proto', 'inference.GRPCInferenceService', [fileURLToPath(new URL('../../protocol/proto/', import.meta.url))]))(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const big = { model_name: 'slow', inputs: [{ name: 'input', datatype: 'FP32', shape: [16, SLOW.size] }], raw_input_contents: [Buffer.alloc(16 * SLOW.size * 4)] };
      expect((await failure(rpc(client, 'ModelInfer')(big))).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(await rpc(client, 'ServerLive')({})).toEqual({ live: true });
    } finally {
      client.close();
      await small.shutdown();
    }
  });

  it('on shutdown: health NOT_SERVING, ready false, new calls UNAVAILABLE SERVER_DRAINING during the grace period, the call in flight answered', async () => {
    // The grace period's end is the test's to choose: the listener stays open until then.
    const clock = new ManualClock();
    const draining = await createTestServer(repo, { shutdownGracePeriodMs: 10_000, clock });
    const port = await draining.grpc.listen('127.0.0.1', 0);
    const protoDir = fileURLToPath(new URL('../../protocol/proto/', import.meta.url));
    const client = new (loadClient('grpc_service.proto', 'inference.GRPCInferenceService', [protoDir]))(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const healthProto = fileURLToPath(import.meta.resolve('grpc-health-check/proto/health/v1/health.proto'));
    const probe = new (loadClient(healthProto, 'grpc.health.v1.Health', []))(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const slow = { model_name: 'slow', id: 'in-flight', inputs: [{ name: 'input', datatype: 'FP32', shape: [64, SLOW.size] }], raw_input_contents: [Buffer.alloc(64 * SLOW.size * 4)] };
      const inFlight = rpc(client, 'ModelInfer')(slow);
      await until(() => draining.inference.pending === 1);
      const stopped = draining.shutdown();
      expect(await rpc(probe, 'Check')({ service: '' })).toEqual({ status: 'NOT_SERVING' });
      expect(await rpc(client, 'ServerLive')({})).toEqual({ live: true });
      expect(await rpc(client, 'ServerReady')({})).toEqual({ ready: false });
      const refused = await failure(rpc(client, 'ModelInfer')(slow));
      expect(refused.code).toBe(grpc.status.UNAVAILABLE);
      expect(refused.metadata.get('sibyl-reason')).toEqual(['SERVER_DRAINING']);
      expect((await inFlight).id).toBe('in-flight');
      clock.advance(10_000);
      await stopped;
    } finally {
      client.close();
      probe.close();
      await draining.shutdown();
    }
  }, 60_000);
});
