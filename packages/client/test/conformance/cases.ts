// THE conformance table: one list of cases — health, metadata, JSON and binary inference for
// every datatype, batches, output selection, labels, classification, and every error a client
// can meet — run through SibylClient against the real `sibyl` binary over REST and gRPC in Node,
// and over REST in headless Chromium (conformance.test.ts). A case passes on every transport
// with the same codes and reasons; `only` marks the few that concern one transport.
import { outputOf, type ClientError, type SibylClient } from '@sibyl/client';
import { fromFloat16Bits, type Datatype, type InferRequest, type InferResponse, type TensorData } from '@sibyl/protocol';
import { close, equal, fails, truthy } from './assert.ts';
import { IDENTITY_DATATYPES, LABELLED_WEIGHTS, LINEAR, SLOW, identityModelName } from './models.ts';

export interface ConformanceContext {
  client: SibylClient;
  transport: 'rest' | 'grpc';
  /** A client of an address nobody listens on. */
  unreachable: SibylClient;
}

export interface ConformanceCase {
  name: string;
  only?: 'rest' | 'grpc';
  run(ctx: ConformanceContext): Promise<void>;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Four values per datatype, with the edges of each range. */
const SAMPLES: Record<(typeof IDENTITY_DATATYPES)[number], () => TensorData> = {
  BOOL: () => new Uint8Array([1, 0, 1, 1]),
  UINT8: () => new Uint8Array([0, 1, 254, 255]),
  UINT16: () => new Uint16Array([0, 7, 65534, 65535]),
  UINT32: () => new Uint32Array([0, 9, 4294967294, 4294967295]),
  UINT64: () => new BigUint64Array([0n, 12n, 9007199254740993n, 18446744073709551615n]),
  INT8: () => new Int8Array([-128, -1, 0, 127]),
  INT16: () => new Int16Array([-32768, -2, 3, 32767]),
  INT32: () => new Int32Array([-2147483648, -5, 6, 2147483647]),
  INT64: () => new BigInt64Array([-9223372036854775808n, -9007199254740993n, 9007199254740993n, 9223372036854775807n]),
  FP16: () => new Uint16Array([0x0000, 0xc000, 0x3800, 0x7bff]), // 0, -2, 0.5, 65504
  FP32: () => new Float32Array([0, -1.5, 3.25, 1e30]),
  FP64: () => new Float64Array([0, -1.5e-300, Math.PI, 1.7976931348623157e308]),
  BYTES: () => ['a', 'héllo', '', 'spaces and "quotes"'].map((s) => utf8.encode(s)),
};

const ROWS = [
  [1, 2, 3, 4],
  [-1, 0.5, 0, 2],
  [0.25, -3, 1.5, 0],
];

/** x·W + b and softmax, in float64 (the model computes in float32: compare with a tolerance). */
function linearExpected(rows: number[][]): { logits: number[]; probabilities: number[] } {
  const logits = rows.map((x) => LINEAR.bias.map((b, j) => b + x.reduce((s, xi, i) => s + xi * LINEAR.weights[i]![j]!, 0)));
  const probabilities = logits.map((l) => {
    const m = Math.max(...l);
    const e = l.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  });
  return { logits: logits.flat(), probabilities: probabilities.flat() };
}

const features = (rows: number[][]): InferRequest => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, 4], data: new Float32Array(rows.flat()) }] });
const oneRow = features([ROWS[0]!]);

function sameData(datatype: Datatype, actual: TensorData, expected: TensorData, what: string): void {
  if (datatype === 'BYTES') equal((actual as Uint8Array[]).map((b) => text.decode(b)), (expected as Uint8Array[]).map((b) => text.decode(b)), what);
  else if (datatype === 'FP16') equal(Array.from(actual as Uint16Array, fromFloat16Bits), Array.from(expected as Uint16Array, fromFloat16Bits), what);
  else equal(actual, expected, what);
  equal((actual as { constructor: unknown }).constructor, (expected as { constructor: unknown }).constructor, `${what} (array type)`);
}

function identityCases(binary: boolean): ConformanceCase[] {
  return IDENTITY_DATATYPES.map((datatype) => ({
    name: `${binary ? 'binary' : 'JSON'} inference round-trips ${datatype} exactly`,
    async run({ client }) {
      const data = SAMPLES[datatype]();
      const response = await client.infer(identityModelName(datatype), { inputs: [{ name: 'input', datatype, shape: [1, 4], data }] }, { binary });
      const output = outputOf(response, 'output', datatype);
      equal(output.shape, [1, 4], 'shape');
      sameData(datatype, output.data, SAMPLES[datatype](), `${datatype} data`);
    },
  }));
}

const bad = (inputs: InferRequest['inputs'], rest: Partial<InferRequest> = {}): InferRequest => ({ inputs, ...rest });

function errorCase(name: string, model: string, request: InferRequest, code: string, reason: string, options: { version?: string; binary?: boolean } = {}): ConformanceCase {
  return {
    name: `${name} → ${code} ${reason}`,
    async run({ client }) {
      await fails(client.infer(model, request, { ...options, retry: false }), code, reason, name);
    },
  };
}

export const CONFORMANCE_CASES: ConformanceCase[] = [
  // Health
  { name: 'server is live and ready', run: async ({ client }) => (equal(await client.serverLive(), true, 'live'), equal(await client.serverReady(), true, 'ready')) },
  {
    name: 'server metadata names Sibyl and its extensions',
    async run({ client }) {
      const m = await client.serverMetadata();
      equal(m.name, 'sibyl', 'name');
      truthy(/^\d+\.\d+\.\d+/.test(m.version), `version ${m.version}`);
      for (const e of ['binary_tensor_data', 'statistics', 'classification', 'model_configuration']) truthy(m.extensions.includes(e), `extension ${e}`);
    },
  },
  {
    name: 'model readiness: ready, failed, unknown, missing version, label',
    async run({ client }) {
      equal(await client.modelReady('linear'), true, 'linear');
      equal(await client.modelReady('linear', { version: '1' }), true, 'linear v1');
      equal(await client.modelReady('labelled', { version: 'canary' }), true, 'labelled canary');
      equal(await client.modelReady('corrupt'), false, 'corrupt');
      equal(await client.modelReady('nope'), false, 'unknown model');
      equal(await client.modelReady('linear', { version: '9' }), false, 'unknown version');
    },
  },
  {
    name: 'repository index: every version with its state, ready-only filter',
    async run({ client }) {
      const index = await client.repositoryIndex();
      equal(index.find((r) => r.name === 'linear')?.state, 'READY', 'linear');
      equal(index.find((r) => r.name === 'corrupt')?.state, 'UNAVAILABLE', 'corrupt');
      truthy(/load failed/.test(index.find((r) => r.name === 'corrupt')?.reason ?? ''), 'corrupt has its reason');
      truthy((await client.repositoryIndex({ readyOnly: true })).every((r) => r.state === 'READY'), 'readyOnly');
    },
  },

  // Metadata
  {
    name: 'model metadata: versions, platform, inputs and outputs (-1: variable)',
    async run({ client }) {
      const expected = {
        name: 'linear',
        versions: ['1'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [
          { name: 'logits', datatype: 'FP32', shape: [-1, 3] },
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
        ],
      };
      equal(await client.modelMetadata('linear'), expected, 'metadata');
      equal(await client.modelMetadata('linear', { version: '1' }), expected, 'metadata of version 1');
      equal((await client.modelMetadata('labelled', { version: 'stable' })).versions, ['1', '2'], 'labelled versions');
    },
  },
  {
    name: "model configuration: Triton's form, dims without the batch dimension",
    async run({ client }) {
      const config = await client.modelConfig('linear');
      equal(config.max_batch_size, 64, 'max_batch_size');
      equal(config.input, [{ name: 'features', data_type: 'TYPE_FP32', dims: [4] }], 'input');
      equal((config.output as { data_type: string }[]).map((o) => o.data_type), ['TYPE_FP32', 'TYPE_FP32'], 'output datatypes');
    },
  },

  // Inference
  ...identityCases(false),
  ...identityCases(true),
  {
    name: 'a batch of 3 rows: every output, the numbers of the model',
    async run({ client }) {
      const response = await client.infer('linear', features(ROWS));
      const expected = linearExpected(ROWS);
      equal(response.model_name, 'linear', 'model_name');
      equal(response.model_version, '1', 'model_version');
      equal(response.outputs.map((o) => [o.name, o.shape]), [['logits', [3, 3]], ['probabilities', [3, 3]]], 'outputs');
      close(outputOf(response, 'logits', 'FP32').data, expected.logits, 'logits');
      close(outputOf(response, 'probabilities', 'FP32').data, expected.probabilities, 'probabilities');
    },
  },
  {
    name: 'a batch as binary tensors gives the same numbers as JSON',
    async run({ client }) {
      const json = await client.infer('linear', features(ROWS), { binary: false });
      const binary = await client.infer('linear', features(ROWS), { binary: true });
      equal(outputOf(binary, 'probabilities', 'FP32').data, outputOf(json, 'probabilities', 'FP32').data, 'probabilities');
    },
  },
  {
    name: 'output selection: only the outputs asked for, in that order',
    async run({ client }) {
      const response = await client.infer('linear', { ...features(ROWS), outputs: [{ name: 'probabilities' }] });
      equal(response.outputs.map((o) => o.name), ['probabilities'], 'outputs');
      close(response.outputs[0]!.data as Float32Array, linearExpected(ROWS).probabilities, 'probabilities');
    },
  },
  {
    name: 'two INT64 inputs, exact beyond 2^53, and the request id echoed',
    async run({ client }) {
      const a = [9007199254740993n, -9223372036854775807n, 1n];
      const b = [2n, -1n, -1n];
      const response = await client.infer('addsub', {
        id: 'conformance-1',
        inputs: [
          { name: 'a', datatype: 'INT64', shape: [1, 3], data: new BigInt64Array(a) },
          { name: 'b', datatype: 'INT64', shape: [1, 3], data: new BigInt64Array(b) },
        ],
      });
      equal(response.id, 'conformance-1', 'id');
      equal(outputOf(response, 'sum', 'INT64').data, new BigInt64Array(a.map((x, i) => BigInt.asIntN(64, x + b[i]!))), 'sum');
      equal(outputOf(response, 'difference', 'INT64').data, new BigInt64Array(a.map((x, i) => BigInt.asIntN(64, x - b[i]!))), 'difference');
    },
  },
  {
    name: 'labels stand where the version goes: stable → 1, canary → 2, none → stable',
    async run({ client }) {
      const request: InferRequest = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: new Float32Array([3, 5]) }], outputs: [{ name: 'logits' }] };
      for (const [version, expected] of [['stable', 1], ['canary', 2], [undefined, 1], ['2', 2]] as const) {
        const response = await client.infer('labelled', request, { version });
        equal(response.model_version, String(expected), `model_version for ${version ?? 'no version'}`);
        equal(Array.from(outputOf(response, 'logits', 'FP32').data), [3 * LABELLED_WEIGHTS[expected]![0]![0]!], `logits for ${version ?? 'no version'}`);
      }
    },
  },
  {
    name: 'classification: the top 2 classes as "value:index" strings',
    async run({ client }) {
      const response = await client.infer('linear', { ...features([ROWS[0]!]), outputs: [{ name: 'probabilities', parameters: { classification: 2 } }] });
      const output = outputOf(response, 'probabilities', 'BYTES');
      equal(output.shape, [1, 2], 'shape');
      const p = linearExpected([ROWS[0]!]).probabilities;
      const top = p.map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0]).slice(0, 2);
      output.data.forEach((b, k) => {
        const [value, index] = text.decode(b).split(':');
        equal(Number(index), top[k]![1], `class ${k}`);
        close([Number(value)], [top[k]![0]], `score ${k}`);
      });
    },
  },
  {
    name: 'statistics count the inferences',
    async run({ client }) {
      const [stats] = await client.modelStatistics('linear');
      equal(stats?.name, 'linear', 'name');
      truthy(typeof stats?.inference_count === 'number' && stats.inference_count > 0, `inference_count ${String(stats?.inference_count)}`);
      truthy((await client.modelStatistics()).some((s) => s.name === 'linear'), 'every model');
    },
  },

  // Errors: the same code and reason on every transport.
  errorCase('an unknown model', 'nope', oneRow, 'NOT_FOUND', 'MODEL_NOT_FOUND'),
  errorCase('an unknown version', 'linear', oneRow, 'NOT_FOUND', 'VERSION_NOT_FOUND', { version: '7' }),
  errorCase('an unknown label', 'linear', oneRow, 'NOT_FOUND', 'LABEL_NOT_FOUND', { version: 'beta' }),
  errorCase('a model that failed to load', 'corrupt', oneRow, 'UNAVAILABLE', 'MODEL_NOT_READY'),
  errorCase('an unknown input', 'linear', bad([{ name: 'feature', datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) }]), 'INVALID_ARGUMENT', 'INPUT_UNKNOWN'),
  errorCase('a missing input', 'addsub', bad([{ name: 'a', datatype: 'INT64', shape: [1, 3], data: new BigInt64Array(3) }]), 'INVALID_ARGUMENT', 'INPUT_MISSING'),
  errorCase('the wrong datatype', 'linear', bad([{ name: 'features', datatype: 'FP64', shape: [1, 4], data: new Float64Array(4) }]), 'INVALID_ARGUMENT', 'INPUT_DATATYPE_MISMATCH'),
  errorCase('the wrong shape', 'linear', bad([{ name: 'features', datatype: 'FP32', shape: [1, 5], data: new Float32Array(5) }]), 'INVALID_ARGUMENT', 'INPUT_SHAPE_MISMATCH'),
  errorCase('a BOOL byte other than 0 or 1 (server side)', identityModelName('BOOL'), bad([{ name: 'input', datatype: 'BOOL', shape: [1, 4], data: new Uint8Array([0, 1, 2, 1]) }]), 'INVALID_ARGUMENT', 'INPUT_DATA_MISMATCH', { binary: true }),
  errorCase('data that does not fill the shape (client side)', 'linear', bad([{ name: 'features', datatype: 'FP32', shape: [2, 4], data: new Float32Array(4) }]), 'INVALID_ARGUMENT', 'INPUT_DATA_MISMATCH'),
  errorCase(
    'inputs that disagree on the batch size',
    'addsub',
    bad([
      { name: 'a', datatype: 'INT64', shape: [1, 3], data: new BigInt64Array(3) },
      { name: 'b', datatype: 'INT64', shape: [2, 3], data: new BigInt64Array(6) },
    ]),
    'INVALID_ARGUMENT',
    'INPUT_BATCH_MISMATCH',
  ),
  errorCase('the same input twice', 'linear', bad([...oneRow.inputs, ...oneRow.inputs]), 'INVALID_ARGUMENT', 'INPUT_DUPLICATE'),
  errorCase('an unknown output', 'linear', { ...oneRow, outputs: [{ name: 'nope' }] }, 'INVALID_ARGUMENT', 'OUTPUT_UNKNOWN'),
  errorCase('a priority that is not a number', 'linear', { ...oneRow, parameters: { priority: 'high' } }, 'INVALID_ARGUMENT', 'PARAMETER_INVALID'),
  errorCase('a classification count of 0', 'linear', { ...oneRow, outputs: [{ name: 'probabilities', parameters: { classification: 0 } }] }, 'INVALID_ARGUMENT', 'CLASSIFICATION_INVALID'),
  {
    name: 'loading a model while the server reads its repository itself → FAILED_PRECONDITION MODEL_CONTROL_DISABLED',
    run: async ({ client }) => void (await fails(client.loadModel('linear', { retry: false }), 'FAILED_PRECONDITION', 'MODEL_CONTROL_DISABLED', 'load')),
  },
  {
    name: 'a deadline that passes → DEADLINE_EXCEEDED',
    run: async ({ client }) => void (await fails(client.infer('slow_deadline', slowRequest(), { timeoutMs: 50, retry: false }), 'DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', 'deadline')),
  },
  {
    name: 'a call its caller cancels → CANCELLED REQUEST_CANCELLED',
    async run({ client }) {
      const controller = new AbortController();
      const call = client.infer('slow_deadline', slowRequest(), { signal: controller.signal });
      controller.abort();
      await fails(call, 'CANCELLED', 'REQUEST_CANCELLED', 'cancel');
    },
  },
  {
    name: 'a full queue → RESOURCE_EXHAUSTED QUEUE_FULL with Retry-After; with retries the call gets through',
    async run({ client }) {
      // One running, one queued (maxQueueSize 1): of four at once, some are refused.
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => client.infer('slow_queue', slowRequest(), { retry: false })));
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as ClientError);
      truthy(refused.length >= 1 && refused.length <= 3, `${refused.length} of 4 refused`);
      for (const e of refused) {
        equal([e.code, e.reason], ['RESOURCE_EXHAUSTED', 'QUEUE_FULL'], 'refusal');
        truthy(e.retryAfterMs !== undefined && e.retryAfterMs > 0, `retryAfterMs ${e.retryAfterMs}`);
      }
      const busy = Array.from({ length: 2 }, () => client.infer('slow_queue', slowRequest(), { retry: false }).catch(() => undefined));
      const patient = await client.infer('slow_queue', slowRequest(), { retry: { maxAttempts: 8 } });
      equal(patient.model_name, 'slow_queue', 'answered after retrying');
      await Promise.all(busy);
    },
  },
  {
    name: 'a server nobody listens on → UNAVAILABLE after the retries, no reason',
    run: async ({ unreachable }) => void (await fails(unreachable.infer('linear', oneRow, { retry: { maxAttempts: 2, initialBackoffMs: 1 } }), 'UNAVAILABLE', null, 'unreachable')),
  },
  {
    name: 'a fallback value answers when the server cannot, and only then',
    async run({ client, unreachable }) {
      const fallback: InferResponse = { model_name: 'linear', outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: new Float32Array([1, 0, 0]) }] };
      equal(await unreachable.infer('linear', oneRow, { retry: false, fallback }), fallback, 'fallback');
      await fails(client.infer('nope', oneRow, { fallback }), 'NOT_FOUND', 'MODEL_NOT_FOUND', 'no fallback for a bad request');
    },
  },
];

function slowRequest(): InferRequest {
  return { inputs: [{ name: 'input', datatype: 'FP32', shape: [64, SLOW.size], data: new Float32Array(64 * SLOW.size) }] };
}
