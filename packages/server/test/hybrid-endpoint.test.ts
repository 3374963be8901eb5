// Hybrid endpoints in process (scripted runtime: "add 2" answers y = x + 2; "fail-runs" fails
// every execution) on a manual clock: a key in an input is taken out before the live call, a
// live failure is answered by the default, and a broken store counts as holding nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { reportText } from '../src/cli/endpoints-command.ts';
import { ManualClock, ScriptedRuntime, createTestServer, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

const T0 = 1_800_000_000_000;
let repo: string;
let server: SibylServer;
let clock: ManualClock;

beforeEach(async () => {
  repo = await makeTempDir('sibyl-hybrid-');
  await writeModelRepository(repo, { m: { versions: { 1: 'add 2' } }, broken: { versions: { 1: 'fail-runs' } } });
  clock = new ManualClock(T0);
});

afterEach(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

const post = async (name: string, body: unknown) => {
  const res = await server.http.inject({ method: 'POST', url: `/v2/models/${name}/infer`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  return { status: res.statusCode, body: res.json() as { model_name: string; outputs: { name: string; data: number[]; shape: number[] }[]; parameters: Record<string, unknown>; error?: string; reason?: string } };
};

const DEFAULT = { outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: [-1] }] };
const stored = (key: string, createdAtMs: number, y: number) => ({ model: 'm', key, version: '1', jobId: 'j', createdAtMs, outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [y] }] });

describe('hybrid endpoints', () => {
  it('reads the key from an input and leaves it out of the live call; follows the clock', async () => {
    server = await createTestServer(repo, { runtime: new ScriptedRuntime(), clock, endpoints: { e: { hybrid: { target: { model: 'm' }, key: { input: 'customer_id' }, maxAgeMs: 1000 } } } as never });
    await server.predictionStore.commitChunk('j', 0, [stored('c1', T0, 40)]);
    const request = { inputs: [{ name: 'customer_id', datatype: 'BYTES', shape: [1], data: ['c1'] }, { name: 'x', datatype: 'FP32', shape: [1, 1], data: [5] }] };
    const fresh = await post('e', request);
    expect(fresh.body.parameters).toMatchObject({ sibyl_source: 'store', sibyl_prediction_age_ms: 0 });
    expect(fresh.body.outputs[0]!.data).toEqual([40]);
    clock.advance(1000);
    const live = await post('e', request);
    expect(live.status).toBe(200);
    expect(live.body.parameters).toMatchObject({ sibyl_source: 'live', sibyl_source_reason: 'stale', sibyl_prediction_age_ms: 1000 });
    expect(live.body.outputs[0]!.data).toEqual([7]);
    await server.predictionStore.commitChunk('j', 1, [stored('c1', clock.epochMs(), 40)]);
    const selected = await post('e', { ...request, outputs: [{ name: 'y' }] });
    expect(selected.body.outputs.map((o) => o.name)).toEqual(['y']);
    const unknown = await post('e', { ...request, outputs: [{ name: 'z' }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ reason: 'OUTPUT_UNKNOWN', error: "the stored prediction of m has no output 'z'; its outputs are 'y'" });
    const two = await post('e', { inputs: [{ name: 'customer_id', datatype: 'BYTES', shape: [2], data: ['c1', 'c2'] }] });
    expect(two.status).toBe(400);
    expect(two.body.error).toBe("input 'customer_id' of endpoint e is its key and has 2 elements; expected one (a hybrid endpoint answers one key per request)");
  });

  it('answers with the default when the live target fails, and when the store cannot be read', async () => {
    server = await createTestServer(repo, {
      runtime: new ScriptedRuntime(),
      clock,
      endpoints: { e: { hybrid: { target: { model: 'broken' }, key: { parameter: 'id' }, maxAgeMs: 1000, default: DEFAULT } } } as never,
    });
    const failed = await post('e', { parameters: { id: 'c9' }, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [5] }] });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ model_name: 'default', outputs: [{ name: 'y', data: [-1] }], parameters: { sibyl_source: 'default', sibyl_source_reason: 'live_failed' } });
    await server.predictionStore.close(); // reading a closed store fails
    const unreadable = await post('e', { parameters: { id: 42 } });
    expect(unreadable.body.parameters).toMatchObject({ sibyl_source: 'default', sibyl_source_reason: 'store_unavailable' });
    const report = (await server.http.inject({ method: 'GET', url: '/v1/endpoints/e' })).json() as { hybrid: { answers: unknown[] }; arms: Record<string, { requests: number; errors: number }> };
    expect(report.hybrid.answers).toEqual([
      { source: 'default', reason: 'live_failed', count: 1 },
      { source: 'default', reason: 'store_unavailable', count: 1 },
    ]);
    expect(report.arms.live).toMatchObject({ requests: 1, errors: 1 });
    expect(report.arms.default).toMatchObject({ requests: 2, errors: 0 });
    expect(reportText(report as never).split('\n').slice(-2)).toEqual(['hybrid: stored broken by parameter id, younger than 1000 ms, else live broken', '  answered by store 0, live 0, default 2; unanswered 0']);
  });
});
