// End to end: the real `sibyl serve` binary on a free port, spoken to over TCP with JSON and
// binary requests. Outputs are checked against values computed independently of the server.
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInferResponseBinary, encodeInferRequestBinary } from '@sibyl/protocol';
import {
  linearClassifierExpected,
  linearClassifierModel,
  makeTempDir,
  removeDir,
  slowModel,
  slowModelExpected,
  spawnSibyl,
  writeModelRepository,
  type SpawnedServer,
} from '../../src/testing/index.ts';

const BIN = fileURLToPath(new URL('../../bin/sibyl.js', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../../examples/models', import.meta.url));
const WEIGHTS = [
  [1, 0],
  [0, 1],
  [-1, 2],
];
const BIAS = [0.5, -0.5];
// Big enough that one run takes tens of milliseconds, so requests are surely in flight.
const SLOW = { size: 2048, depth: 60 };

async function infer(url: string, model: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/v2/models/${model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('sibyl serve over TCP', () => {
  let repo: string;
  let server: SpawnedServer;

  beforeAll(async () => {
    repo = await makeTempDir('sibyl-e2e-');
    await writeModelRepository(repo, {
      linear: { versions: { 1: linearClassifierModel({ weights: WEIGHTS, bias: BIAS }).bytes } },
      broken: { versions: { 1: 'not an onnx file' } },
    });
    server = await spawnSibyl(['--model-repository', repo]);
  }, 60_000);

  afterAll(async () => {
    if (server !== undefined) expect(await server.stop()).toBe(0);
    await removeDir(repo);
  });

  it('reports what it serves, including the model that failed and why', () => {
    const lines = server.logs.filter((l) => typeof l.model === 'string' && typeof l.state === 'string');
    expect(lines.map((l) => [l.model, l.state])).toEqual([
      ['broken', 'UNAVAILABLE'],
      ['linear', 'READY'],
    ]);
    expect(String(lines[0]!.reason)).toMatch(/load failed: .*protobuf/i);
  });

  it('answers JSON inference with the model\'s numbers', async () => {
    const rows = [
      [1, 2, 3],
      [0.5, -0.5, 4],
    ];
    const res = await infer(server.url, 'linear', { id: 'e2e', inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 3], data: rows.flat() }] });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe('e2e');
    const outputs = res.body.outputs as { name: string; data: number[] }[];
    const expected = linearClassifierExpected(WEIGHTS, BIAS, rows);
    outputs[1]!.data.forEach((v, i) => expect(v).toBeCloseTo(expected.probabilities.flat()[i]!, 6));
  });

  it('answers binary inference', async () => {
    const { body, headerLength } = encodeInferRequestBinary(
      { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: new Float32Array([2, 1, 0]) }], outputs: [{ name: 'logits' }] },
      { binaryOutputs: true },
    );
    const res = await fetch(`${server.url}/v2/models/linear/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
      body,
    });
    expect(res.status).toBe(200);
    const decoded = decodeInferResponseBinary(new Uint8Array(await res.arrayBuffer()), Number(res.headers.get('inference-header-content-length')));
    expect([...(decoded.outputs[0]!.data as Float32Array)]).toEqual([2.5, 0.5]);
  });

  it.each([
    ['linear', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] }, 400, 'INPUT_SHAPE_MISMATCH'],
    ['linear', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }, 400, 'INPUT_UNKNOWN'],
    ['linear', { inputs: [{ name: 'features', datatype: 'INT32', shape: [1, 3], data: [1, 2, 3] }] }, 400, 'INPUT_DATATYPE_MISMATCH'],
    ['linear', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, null, 3] }] }, 400, 'INPUT_DATA_MISMATCH'],
    ['linear', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2] }] }, 400, 'INPUT_DATA_MISMATCH'],
    ['linear', { inputs: [] }, 400, 'MALFORMED_REQUEST'],
    ['nothing', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }, 404, 'MODEL_NOT_FOUND'],
    ['broken', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }, 503, 'MODEL_NOT_READY'],
  ])('model %s, bad request → %i %s', async (model, body, status, reason) => {
    const res = await infer(server.url, model, body);
    expect(res.status).toBe(status);
    expect(res.body.reason).toBe(reason);
    expect(typeof res.body.error).toBe('string');
  });

  it('413 for a body over the limit, and still serving afterwards', async () => {
    // The server answers as soon as Content-Length says too much, then closes the connection while
    // the upload is still going: read the answer and ignore the interrupted write, as clients do.
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${server.url}/v2/models/linear/infer`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 70 * 1024 * 1024 } });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
      });
      req.write('x'.repeat(64 * 1024));
    });
    expect(status).toBe(413);
    expect((JSON.parse(body) as { reason: string }).reason).toBe('BODY_TOO_LARGE');
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  });
});

describe('graceful shutdown', () => {
  let repo: string;

  beforeAll(async () => {
    repo = await makeTempDir('sibyl-drain-');
    await writeModelRepository(repo, { slow: { versions: { 1: slowModel(SLOW).bytes } } });
  });

  afterAll(async () => {
    await removeDir(repo);
  });

  it('on SIGTERM: readiness false and 503 for new requests during the grace period, in-flight requests finish, exit code 0', async () => {
    // spawnSibyl's default grace period is 0: the listener would close at once.
    const server = await spawnSibyl(['--model-repository', repo, '--shutdown-grace-period-ms', '3000']);
    // 64 rows per request (each runs alone), eight requests on one instance: busy for seconds after the signal.
    const rows = 64;
    const input = Float32Array.from({ length: rows * SLOW.size }, (_, i) => i % 7);
    const expected = slowModelExpected(input, SLOW.size, SLOW.depth);
    const body = { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, SLOW.size], data: [...input] }] };
    const inFlight = Array.from({ length: 8 }, () => infer(server.url, 'slow', body));
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.process.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ready = await fetch(`${server.url}/v2/health/ready`);
    expect(ready.status).toBe(503);
    const late = await infer(server.url, 'slow', body);
    expect(late.status).toBe(503);
    expect(late.body.reason).toBe('SERVER_DRAINING');
    const answers = await Promise.all(inFlight);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      const data = (answer.body.outputs as { data: number[] }[])[0]!.data;
      expect(data).toEqual([...expected]);
    }
    expect(await server.exited).toBe(0);
  }, 60_000);

  it('a drain timeout bounds the wait: the server exits 0 even with a request still running', async () => {
    const server = await spawnSibyl(['--model-repository', repo, '--drain-timeout-ms', '100']);
    const body = { inputs: [{ name: 'input', datatype: 'FP32', shape: [64, SLOW.size], data: new Array(64 * SLOW.size).fill(1) }] };
    const requests = Array.from({ length: 20 }, () => infer(server.url, 'slow', body).catch((err: Error) => err));
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const outcomes = await Promise.all(requests);
    expect(outcomes.some((o) => o instanceof Error)).toBe(true); // cut off by the timeout
    expect(server.logs.some((l) => String(l.msg).includes('drain timeout of 100 ms passed'))).toBe(true);
  }, 60_000);
});

describe('the sibyl command', () => {
  it('--help documents every option and the environment variables', () => {
    const out = spawnSync(process.execPath, [BIN, 'serve', '--help'], { encoding: 'utf8' });
    expect(out.status).toBe(0);
    for (const flag of ['--model-repository', '--host', '--http-port', '--config', '--log-level', '--drain-timeout-ms', 'SIBYL_HTTP_PORT', 'Precedence']) {
      expect(out.stdout).toContain(flag);
    }
  });

  it('exits 2 with the file, field, value and what is allowed on a bad configuration', async () => {
    const dir = await makeTempDir('sibyl-conf-');
    const file = `${dir}/sibyl.yaml`;
    await import('node:fs/promises').then((fs) => fs.writeFile(file, 'http:\n  port: 99999\n'));
    const out = spawnSync(process.execPath, [BIN, 'serve', '--config', file], { encoding: 'utf8' });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain(`${file}: http.port: 99999 is not allowed; expected an integer from 0 to 65535`);
    const env = spawnSync(process.execPath, [BIN, 'serve'], { encoding: 'utf8', env: { ...process.env, SIBYL_LOG_LEVEL: 'chatty' } });
    expect(env.status).toBe(2);
    expect(env.stderr).toContain('logLevel: "chatty" is not allowed');
    await removeDir(dir);
  });

  it('serves the bundled examples by default, with the README\'s prediction', async () => {
    const server = await spawnSibyl([]);
    const samples = JSON.parse(readFileSync(`${EXAMPLES}/iris/samples.json`, 'utf8')) as { inputs: number[][]; probabilities: number[][] };
    const res = await infer(server.url, 'iris', { inputs: [{ name: 'features', datatype: 'FP32', shape: [3, 4], data: samples.inputs }] });
    expect(res.status).toBe(200);
    const data = (res.body.outputs as { data: number[] }[])[0]!.data;
    data.forEach((v, i) => expect(Math.abs(v - samples.probabilities.flat()[i]!)).toBeLessThan(1e-5));
    expect(await server.stop()).toBe(0);
  }, 60_000);
});
