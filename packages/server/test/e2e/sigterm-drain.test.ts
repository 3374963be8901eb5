// End to end: the real `sibyl serve` gets SIGTERM (or SIGINT) with requests in flight on
// keep-alive connections. Issue 13, H1: no request received before the signal is lost to a
// connection reset, and clients arriving during the grace period get 503 SERVER_DRAINING with
// Connection: close instead of connection refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, probeDrain, removeDir, slowModel, spawnSibyl, writeModelRepository } from '../../src/testing/index.ts';
import type { SpawnedServer } from '../../src/testing/index.ts';

const SLOW = { size: 512, depth: 8 };
const BODY = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, SLOW.size], data: Array.from({ length: SLOW.size }, (_, i) => i % 5) }] });

/** The end of a process that has not exited yet (its output read to the end): code and signal. */
function exitOf(server: SpawnedServer): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => server.process.once('close', (code, signal) => resolve({ code, signal })));
}

describe('sibyl serve on SIGTERM and SIGINT', () => {
  let repo: string;

  beforeAll(async () => {
    repo = await makeTempDir('sibyl-e2e-drain-');
    // At most 4 rows per run: 200 requests queue for a while.
    await writeModelRepository(repo, { slow: { versions: { 1: slowModel(SLOW).bytes }, config: 'maxBatchSize: 4\n' } });
  });

  afterAll(async () => {
    await removeDir(repo);
  });

  it('answers every request sent before SIGTERM (no reset), and 503 SERVER_DRAINING with Connection: close during the grace period', async () => {
    const server = await spawnSibyl(['--model-repository', repo, '--state-store', ':memory:', '--shutdown-grace-period-ms', '5000'], { timeoutMs: 60_000 });
    const result = await probeDrain({ server, model: 'slow', body: BODY, inFlight: 200, connections: 50, afterSignal: 20 });
    // 200 for those read before the signal, 503 for those the pool wrote after it: never a connection error.
    expect(Object.keys(result.beforeSignal).filter((outcome) => outcome !== '200' && outcome !== '503')).toEqual([]);
    expect((result.beforeSignal['200'] ?? 0) + (result.beforeSignal['503'] ?? 0)).toBe(200);
    expect(result.readiness).toBe('503');
    expect(result.afterSignal).toEqual({ '503': 20 });
    expect(result.reasons).toEqual({ SERVER_DRAINING: 20 });
    expect(result.keptAlive).toBe(0);
    expect(result.exitCode).toBe(0);
    expect(server.logs.find((l) => l.msg === 'shut down')).toMatchObject({ drained: true, released: true });
  }, 120_000);

  it('SIGINT skips the grace period; a second signal during the drain ends the process at once', async () => {
    const interactive = await spawnSibyl(['--model-repository', repo, '--state-store', ':memory:', '--shutdown-grace-period-ms', '25000'], { timeoutMs: 60_000 });
    interactive.process.kill('SIGINT');
    expect(await interactive.exited).toBe(0);
    expect(interactive.logs.find((l) => typeof l.gracePeriodMs === 'number')).toMatchObject({ gracePeriodMs: 0 });

    const stubborn = await spawnSibyl(['--model-repository', repo, '--state-store', ':memory:', '--shutdown-grace-period-ms', '25000'], { timeoutMs: 60_000 });
    const exit = exitOf(stubborn);
    stubborn.process.kill('SIGTERM');
    expect(await stubborn.waitForLog((l) => typeof l.gracePeriodMs === 'number', 'with gracePeriodMs')).toMatchObject({ gracePeriodMs: 25000 });
    stubborn.process.kill('SIGTERM');
    // Killed, not exited: a worker thread inside an onnxruntime run would hold up process.exit.
    expect(await exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(stubborn.logs.some((l) => l.msg === 'SIGTERM again: exiting now')).toBe(true);
  }, 120_000);
});
