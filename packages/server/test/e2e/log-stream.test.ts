// The log stream of the real `sibyl serve`: stdout holds only JSON lines, whatever happens —
// onnxruntime failing runs (its native logger wrote coloured `[E:onnxruntime…]` text), a process
// warning (Node printed it as text), and a client repeating a failing request (a line each, until
// rate-limited: a burst, then one summary).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir, runtimeFailureModel, spawnSibyl, writeModelRepository, type SpawnedServer } from '../../src/testing/index.ts';

const REQUESTS = 40;
const BURST = 10; // DEFAULT_LOG_RATE_LIMITS.burst
// Loaded into the server's main thread: a process warning on SIGUSR2, when the test asks.
const PROBE = `import { isMainThread } from 'node:worker_threads';
if (isMainThread) process.on('SIGUSR2', () => process.emitWarning('probe warning from the test', 'ProbeWarning'));`;

let repo: string;
let server: SpawnedServer;
let exitCode: number | null;
let statuses: number[];

beforeAll(async () => {
  repo = await makeTempDir('sibyl-logstream-');
  // Every run fails inside onnxruntime (a Reshape to [7, -1] of 4 values).
  await writeModelRepository(repo, { broken: { versions: { 1: runtimeFailureModel({ features: 4, classes: 3 }).bytes } } });
  server = await spawnSibyl(['--model-repository', repo, '--state-store', ':memory:', '--log-level', 'debug'], {
    env: { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(PROBE)}` },
    timeoutMs: 60_000,
  });
  statuses = [];
  for (let i = 0; i < REQUESTS; i++) {
    const res = await fetch(`${server.url}/v2/models/broken/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
    });
    statuses.push(res.status);
    await res.arrayBuffer();
  }
  server.process.kill('SIGUSR2');
  await server.waitForLog((l) => /ProbeWarning/.test(String(l.msg)), 'with ProbeWarning after SIGUSR2', 20_000);
  exitCode = await server.stop();
}, 120_000);

afterAll(async () => {
  if (server !== undefined && server.process.exitCode === null) await server.stop();
  await removeDir(repo);
});

describe('the log stream of sibyl serve', () => {
  it('every run failed (the model is broken)', () => {
    expect(exitCode).toBe(0);
    expect(statuses.every((s) => s >= 400)).toBe(true);
  });

  it('stdout is JSON lines only, and onnxruntime wrote nothing to stderr', () => {
    const lines = server.output.stdout.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.filter((l) => !isJsonObject(l))).toEqual([]);
    expect(server.output.stderr).not.toMatch(/onnxruntime/);
  });

  it('a process warning is a JSON log line, not text on stderr', () => {
    expect(server.logs.filter((l) => /ProbeWarning/.test(String(l.msg)))).toEqual([
      expect.objectContaining({ level: 40, msg: 'ProbeWarning: probe warning from the test', warning: expect.objectContaining({ name: 'ProbeWarning' }) }),
    ]);
    expect(server.output.stderr).not.toMatch(/ProbeWarning/);
  });

  it('a client repeating a failing request writes a burst of lines, then one summary', () => {
    const failures = server.logs.filter((l) => typeof l.requestId === 'string' && (l.err !== undefined || String(l.msg).startsWith('request failed:')));
    expect(failures).toHaveLength(BURST);
    const summaries = server.logs.filter((l) => typeof l.suppressed === 'number');
    expect(summaries).toEqual([expect.objectContaining({ level: 40, suppressed: REQUESTS - BURST, logKey: expect.stringMatching(/^http POST \/v2\/models\/:model\/infer /) })]);
  });
});

function isJsonObject(line: string): boolean {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}
