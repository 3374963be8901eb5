// End to end: `sibyl serve` with a separate metrics port, access logging and a prediction log,
// and the `sibyl predictions` and `sibyl log-level` commands talking to it over TCP.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearClassifierModel, makeTempDir, removeDir, spawnSibyl, writeModelRepository, type SpawnedServer } from '../../src/testing/index.ts';
import { LINEAR_4X3 } from '../fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/sibyl.js', import.meta.url));

function sibyl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function until<T>(what: string, fn: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = fn();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('observability of sibyl serve over TCP', () => {
  let repo: string;
  let logDir: string;
  let server: SpawnedServer;

  beforeAll(async () => {
    repo = await makeTempDir('sibyl-e2e-obs-');
    logDir = await makeTempDir('sibyl-e2e-plog-');
    await writeModelRepository(repo, {
      linear: { versions: { 1: linearClassifierModel({ weights: LINEAR_4X3.weights, bias: LINEAR_4X3.bias }).bytes }, config: 'predictionLog:\n  sampleRate: 1\n' },
    });
    server = await spawnSibyl(['--model-repository', repo, '--metrics-port', '0', '--access-log', 'true', '--prediction-log-path', path.join(logDir, 'p.sqlite')]);
    for (const id of ['e2e-1', 'e2e-2']) {
      const res = await fetch(`${server.url}/v2/models/linear/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': id },
        body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
      });
      expect(res.status).toBe(200);
    }
  }, 60_000);

  afterAll(async () => {
    if (server !== undefined) expect(await server.stop()).toBe(0);
    await removeDir(repo);
    await removeDir(logDir);
  });

  it('serves /metrics on the metrics port, and nothing else there', async () => {
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.metricsUrl).not.toBe(server.url);
    const metrics = await fetch(`${server.metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('sibyl_inference_requests_total{model="linear",version="1",outcome="success",code="OK",reason=""} 2');
    expect((await fetch(`${server.metricsUrl}/v2/health/live`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
  });

  it('writes one access log line per request, with its request id', async () => {
    const lines = await until('the access log lines', () => {
      const found = server.logs.filter((l) => l.msg === 'request completed' && String(l.url).includes('/infer'));
      return found.length >= 2 ? found : undefined;
    });
    expect(lines.map((l) => [l.requestId, l.method, l.statusCode])).toEqual([
      ['e2e-1', 'POST', 200],
      ['e2e-2', 'POST', 200],
    ]);
    expect(typeof lines[0]!.responseTimeMs).toBe('number');
  });

  it('sibyl predictions prints the records of the running server as JSON Lines', async () => {
    const { code, stdout } = await sibyl(['predictions', 'linear', '--url', server.url, '--limit', '10']);
    expect(code).toBe(0);
    const records = stdout.trim().split('\n').map((line) => JSON.parse(line) as { requestId: string; model: string; inputs: { data: number[] }[] });
    expect(records.map((r) => [r.requestId, r.model, r.inputs[0]!.data])).toEqual([
      ['e2e-1', 'linear', [1, 2, 3, 4]],
      ['e2e-2', 'linear', [1, 2, 3, 4]],
    ]);
    const missing = await sibyl(['predictions', 'nosuchmodel', '--url', server.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("sibyl: model 'nosuchmodel' is not in the repository");
    expect(missing.stderr).toContain('(MODEL_NOT_FOUND)');
  });

  it('sibyl log-level reads and changes the level at runtime', async () => {
    expect(await sibyl(['log-level', '--url', server.url])).toMatchObject({ code: 0, stdout: 'info\n' });
    expect(await sibyl(['log-level', 'debug', '--url', server.url])).toMatchObject({ code: 0, stdout: 'debug\n' });
    expect(await (await fetch(`${server.url}/v2/logging`)).json()).toEqual({ level: 'debug' });
    const bad = await sibyl(['log-level', 'loud', '--url', server.url]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('level one of fatal, error, warn, info, debug, trace, silent');
  });
});
