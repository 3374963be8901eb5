// A stock Python gRPC stack against Sibyl's gRPC frontend: grpcio (the C-core client, not
// grpc-js) with stubs that grpc_tools.protoc generates from the protocol's .proto, driven the way
// tritonclient.grpc drives its own stubs (stock-clients/tritonclient_grpc.py says from which
// source). PyPI is unreachable, so tritonclient is replayed, not installed; Debian's
// python3-grpcio, python3-grpc-tools and python3-protobuf are needed (.ci/run installs them), so
// this suite is in the `conformance` project (`npm run test:conformance`), not in `npm test`.
// Expected values are computed here, independently of the server.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
import { conformanceTools } from '../../../scripts/conformance-tools.ts';
import { LINEAR_4X3 } from './fixtures.ts';

const run = promisify(execFile);
const PYTHON = conformanceTools().python;
const PROTO_DIR = fileURLToPath(new URL('../../protocol/proto/', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./stock-clients/tritonclient_grpc.py', import.meta.url));
const ROWS = [
  [1, 2, 3, 4],
  [-1, 0.5, 0, 2],
];
const EXPECTED = linearClassifierExpected(LINEAR_4X3.weights, LINEAR_4X3.bias, ROWS);

let repo: string;
let stubs: string;
let server: SibylServer;
let out: Record<string, unknown>;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-pygrpc-');
  stubs = await makeTempDir('sibyl-pystubs-');
  await writeModelRepository(repo, {
    linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } },
    addsub: { versions: { 1: addSubModel().bytes } },
    strings: { versions: { 1: identityModel('BYTES', ['batch', 3]).bytes } },
    corrupt: { versions: { 1: corruptModelBytes() } },
  });
  await run(PYTHON, ['-m', 'grpc_tools.protoc', `-I${PROTO_DIR}`, `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, 'grpc_service.proto', 'model_config.proto']);
  server = await createTestServer(repo);
  const port = await server.grpc.listen('127.0.0.1', 0);
  const { stdout } = await run(PYTHON, [SCRIPT, stubs, `127.0.0.1:${port}`]);
  out = JSON.parse(stdout) as Record<string, unknown>;
}, 120_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
  await removeDir(stubs);
});

const closeTo = (actual: number[], expected: number[]) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
};

describe('tritonclient.grpc (Python, grpcio C core) replayed', () => {
  it('health, server metadata and model readiness', () => {
    expect(out.live).toBe(true);
    expect(out.ready).toBe(true);
    expect(out.server).toEqual({ name: 'sibyl', extensions: expect.arrayContaining(['binary_tensor_data', 'model_configuration']) });
    expect(out.model_ready).toEqual([true, true, false]);
  });

  it('model metadata and model config as the generated stubs read them', () => {
    expect(out.metadata).toEqual({
      name: 'linear',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [['features', 'FP32', [-1, 4]]],
      outputs: [
        ['logits', 'FP32', [-1, 3]],
        ['probabilities', 'FP32', [-1, 3]],
      ],
    });
    expect(out.config).toEqual({ name: 'linear', max_batch_size: 64, input: [['features', 'TYPE_FP32', [4]]] });
  });

  it('infer with raw_input_contents, request id, priority (uint64_param) and timeout: raw outputs with the numbers', () => {
    const infer = out.infer as { id: string; model_version: string; logits: [number[], number[]]; probabilities: [number[], number[]] };
    expect(infer.id).toBe('py-1');
    expect(infer.model_version).toBe('1');
    expect(infer.logits[1]).toEqual([2, 3]);
    closeTo(infer.logits[0], EXPECTED.logits.flat());
    closeTo(infer.probabilities[0], EXPECTED.probabilities.flat());
  });

  it('INT64 exact beyond 2^53 with a selected output, BYTES, and classification', () => {
    expect(out.int64).toEqual({ outputs: ['sum'], sum: [['9007199254740995', '-9223372036854775808', '0'].map(Number), [1, 3]] });
    expect(out.bytes).toEqual([['héllo', '', 'x'], [1, 3]]);
    const [strings, shape] = out.classification as [string[], number[]];
    expect(shape).toEqual([1, 2]);
    const top = EXPECTED.probabilities[0]!.map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0]);
    expect(strings.map((s) => Number(s.split(':')[1]))).toEqual([top[0]![1], top[1]![1]]);
  });

  it('errors raise InferenceServerException with the gRPC status name and the server message', () => {
    expect(out.errors).toEqual({
      unknown_model: { status: 'StatusCode.NOT_FOUND', msg: expect.stringMatching(/model 'nope' is not in the repository/) },
      wrong_shape: { status: 'StatusCode.INVALID_ARGUMENT', msg: expect.stringMatching(/has shape \[1, 3\]; model 'linear' expects \[-1, 4\]/) },
      not_ready: { status: 'StatusCode.UNAVAILABLE', msg: expect.stringMatching(/model 'corrupt' is not ready/) },
      load: { status: 'StatusCode.FAILED_PRECONDITION', msg: expect.stringMatching(/--model-control-mode explicit/) },
      unload: { status: 'StatusCode.FAILED_PRECONDITION', msg: expect.stringMatching(/--model-control-mode explicit/) },
    });
  });

  it('streaming: one callback per request, the bad one as an error', () => {
    const stream = out.stream as ({ id: string; logits: [number[], number[]] } | { error: string })[];
    expect(stream).toHaveLength(2);
    const ok = stream.find((s) => 'id' in s) as { id: string; logits: [number[], number[]] };
    expect(ok.id).toBe('s-1');
    closeTo(ok.logits[0], EXPECTED.logits[0]!);
    expect(stream.find((s) => 'error' in s)).toEqual({ error: expect.stringMatching(/expects \[-1, 4\]/) });
  });

  it('repository index and statistics', () => {
    expect(out.index).toEqual(expect.arrayContaining([['corrupt', 'UNAVAILABLE'], ['linear', 'READY']]));
    expect(out.statistics).toEqual([{ name: 'linear', version: '1', inference_count: 4, execution_count: 3 }]);
  });
});
