// Endpoints and their traffic policies through the HTTP API, in process, with the scripted
// runtime (model.onnx "add 2" answers y = x + 2, so the answer shows which version computed it),
// a manual clock and a seeded random source: every policy is deterministic here.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { SqliteStateStore } from '../src/state/sqlite-state-store.ts';
import { ManualClock, ScriptedRuntime, createTestServer, makeTempDir, removeDir, seededRandom, writeModelRepository, type TestServerOptions } from '../src/testing/index.ts';
import { parsePrometheusText, sampleValue } from '../src/testing/prometheus-text.ts';
import path from 'node:path';

let repo: string;
let runtime: ScriptedRuntime;
let clock: ManualClock;
const servers: SibylServer[] = [];

beforeEach(async () => {
  repo = await makeTempDir('sibyl-endpoints-');
  runtime = new ScriptedRuntime();
  clock = new ManualClock(1_800_000_000_000);
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.shutdown()));
  await removeDir(repo);
});

async function start(endpoints: Record<string, unknown>, options: TestServerOptions = {}): Promise<SibylServer> {
  const server = await createTestServer(repo, { runtime, clock, random: seededRandom(42), endpoints: endpoints as never, drainTimeoutMs: 1000, ...options });
  servers.push(server);
  return server;
}

interface Answer {
  status: number;
  model?: string;
  version?: string;
  y?: number[];
  id?: string;
  parameters: Record<string, unknown>;
  body: Record<string, unknown>;
}

async function infer(server: SibylServer, name: string, x: number[] = [1], options: { headers?: Record<string, string>; parameters?: Record<string, unknown>; id?: string; url?: string } = {}): Promise<Answer> {
  const res = await server.http.inject({
    method: 'POST',
    url: options.url ?? `/v2/models/${name}/infer`,
    headers: { 'content-type': 'application/json', ...options.headers },
    payload: JSON.stringify({
      ...(options.id === undefined ? {} : { id: options.id }),
      ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
      inputs: [{ name: 'x', datatype: 'FP32', shape: [x.length, 1], data: x }],
    }),
  });
  const body = res.json() as Record<string, unknown>;
  const outputs = body.outputs as { data: number[] }[] | undefined;
  return {
    status: res.statusCode,
    model: body.model_name as string | undefined,
    version: body.model_version as string | undefined,
    y: outputs?.[0]?.data,
    id: body.id as string | undefined,
    parameters: (body.parameters ?? {}) as Record<string, unknown>,
    body,
  };
}

async function call(server: SibylServer, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await server.http.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.statusCode, json: res.json() as Record<string, unknown> };
}

/** The endpoint report, as JSON read by path in the tests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document, read field by field
type Report = Record<string, any>;
const report = async (server: SibylServer, name: string): Promise<Report> => (await call(server, 'GET', `/v1/endpoints/${name}`)).json as Report;

describe('weighted split with sticky assignment', () => {
  it('keeps a user in one arm, shares traffic by weight, and says which arm answered', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' } } });
    const server = await start({
      ab: { split: { stickyKey: { header: 'x-user-id' }, arms: [{ name: 'a', model: 'm', version: 1, weight: 80 }, { name: 'b', model: 'm', version: 2, weight: 20 }] } },
    });
    const first = await infer(server, 'ab', [1], { headers: { 'x-user-id': 'user-7' } });
    expect(first).toMatchObject({ status: 200, model: 'm', parameters: { sibyl_endpoint: 'ab', sibyl_variant: first.version === '1' ? 'a' : 'b' } });
    for (let i = 0; i < 10; i++) expect((await infer(server, 'ab', [1], { headers: { 'x-user-id': 'user-7' } })).version).toBe(first.version);
    let b = 0;
    for (let u = 0; u < 400; u++) if ((await infer(server, 'ab', [1], { headers: { 'x-user-id': `u${u}` } })).parameters.sibyl_variant === 'b') b++;
    expect(b / 400).toBeGreaterThan(0.13);
    expect(b / 400).toBeLessThan(0.27);
    // Both versions stay loaded for the endpoint (the policy alone would load only 2).
    expect(server.models.status('m').versions.map((v) => v.state)).toEqual(['READY', 'READY']);
  });

  it('takes outcome feedback by response id and tests the arms’ rates against each other', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' } } });
    const server = await start({ ab: { split: { arms: [{ name: 'a', model: 'm', version: 1, weight: 1 }, { name: 'b', model: 'm', version: 2, weight: 1 }] } } });
    const ids: { id: string; arm: string }[] = [];
    for (let i = 0; i < 400; i++) {
      const a = await infer(server, 'ab');
      ids.push({ id: a.id!, arm: a.parameters.sibyl_variant as string });
    }
    // Arm b converts 40% of the time, arm a 10%.
    const feedback = ids.map(({ id, arm }, i) => ({ id, outcome: arm === 'b' ? i % 5 < 2 : i % 10 === 0 }));
    const res = await call(server, 'POST', '/v1/endpoints/ab/feedback', { feedback });
    expect(res.status).toBe(200);
    expect((res.json.recorded as unknown[]).length).toBe(400);
    const r = await report(server, 'ab');
    expect(r.arms.a.feedback.outcomes + r.arms.b.feedback.outcomes).toBe(400);
    expect(r.arms.b.versusControl.significant).toBe(true);
    expect(r.arms.b.versusControl.difference).toBeGreaterThan(0.2);
    expect(await call(server, 'POST', '/v1/endpoints/ab/feedback', { id: ids[0]!.id, outcome: true })).toMatchObject({ status: 404, json: { reason: 'FEEDBACK_UNMATCHED' } });
    expect(await call(server, 'POST', '/v1/endpoints/ab/feedback', { id: 'x', outcome: 'yes' })).toMatchObject({ status: 400, json: { reason: 'MALFORMED_REQUEST' } });
  });
});

describe('canary', () => {
  // The endpoint has the model's name and answers in its place: it says so (issue 15).
  const canary = (candidate: number, extra: Record<string, unknown> = {}) => ({
    replacesModel: true,
    canary: { stable: { model: 'm', label: 'stable' }, candidate: { model: 'm', version: candidate }, stages: [10, 50, 100], stageDurationMs: 60_000, analysis: { minSamples: 10, maxErrorRateIncrease: 0.05 }, ...extra },
  });

  it('advances stage by stage on a healthy candidate and, promoted, moves the stable label', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' }, config: 'labels: { stable: 1 }\n' } });
    const server = await start({ m: canary(2) });
    const shares: number[] = [];
    for (let stage = 0; stage < 3; stage++) {
      let candidate = 0;
      for (let i = 0; i < 200; i++) if ((await infer(server, 'm')).version === '2') candidate++;
      shares.push(candidate / 200);
      clock.advance(60_000);
    }
    expect(shares[0]).toBeGreaterThan(0.04);
    expect(shares[0]).toBeLessThan(0.2);
    expect(shares[1]).toBeGreaterThan(0.4);
    expect(shares[1]).toBeLessThan(0.6);
    expect(shares[2]).toBe(1);
    await server.models.whenSettled();
    const r = await report(server, 'm');
    expect(r.canary.status).toBe('promoted');
    expect(r.canary.history.map((h: { from: string; to: string }) => `${h.from} → ${h.to}`)).toEqual(['stage 1 (10%) → stage 2 (50%)', 'stage 2 (50%) → stage 3 (100%)', 'stage 3 (100%) → promoted']);
    expect(server.models.status('m').labels.get('stable')).toMatchObject({ version: 2, source: 'api' });
  });

  it('a broken candidate is rolled back automatically; callers never see its failures', async () => {
    const store = await SqliteStateStore.open(path.join(repo, '.state.sqlite'));
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'fail-runs' }, config: 'labels: { stable: 1 }\n' } });
    const server = await start({ m: canary(2) }, { store });
    const answers: Answer[] = [];
    for (let i = 0; i < 400; i++) answers.push(await infer(server, 'm'));
    expect(answers.every((a) => a.status === 200 && a.version === '1' && a.y![0] === 2)).toBe(true);
    expect(answers.some((a) => a.parameters.sibyl_retried_from === 'candidate')).toBe(true);
    const r = await report(server, 'm');
    expect(r.canary.status).toBe('rolled-back');
    expect(r.canary.candidateShare).toBe(0);
    expect(r.canary.history).toHaveLength(1);
    expect(r.canary.history[0].reason).toMatch(/^candidate error rate 100\.00% over 10 requests exceeds the stable arm's 0\.00% by more than maxErrorRateIncrease 5\.00%$/);
    expect(r.arms.candidate.errors).toBe(10);
    // After the rollback the candidate gets nothing.
    const executions = runtime.executionsOf('m:2');
    for (let i = 0; i < 50; i++) await infer(server, 'm');
    expect(runtime.executionsOf('m:2')).toBe(executions);

    // The rollback survives a restart; a changed canary in sibyl.yaml starts afresh.
    await server.shutdown();
    const again = await start({ m: canary(2) }, { store: await SqliteStateStore.open(path.join(repo, '.state.sqlite')) });
    expect((await report(again, 'm')).canary).toMatchObject({ status: 'rolled-back', history: [{ to: 'rolled-back' }] });
    await again.shutdown();
    const changed = await start({ m: canary(2, { stages: [20, 100] }) }, { store: await SqliteStateStore.open(path.join(repo, '.state.sqlite')) });
    expect((await report(changed, 'm')).canary).toMatchObject({ status: 'running', stage: 1, history: [] });
  });

  it('a candidate too slow against its p99 limit is rolled back (real clock)', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2 after 40' }, config: 'labels: { stable: 1 }\n' } });
    const server = await createTestServer(repo, {
      runtime,
      random: seededRandom(3),
      drainTimeoutMs: 1000,
      endpoints: { m: { replacesModel: true, canary: { stable: { model: 'm', label: 'stable' }, candidate: { model: 'm', version: 2 }, stages: [50], stageDurationMs: 3_600_000, analysis: { minSamples: 10, maxP99Ms: 20 } } } } as never,
    });
    servers.push(server);
    for (let i = 0; i < 40 && (await report(server, 'm')).canary.status === 'running'; i++) expect((await infer(server, 'm')).status).toBe(200);
    const r = await report(server, 'm');
    expect(r.canary.status).toBe('rolled-back');
    // Judged after each of its answers: at the tenth, the minimum sample.
    expect(r.canary.history[0].reason).toMatch(/^candidate p99 latency \d+\.\d ms over 10 requests exceeds maxP99Ms 20 ms$/);
  });

  it('operators can pause, resume, promote or roll back, with a reason in the history', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' }, config: 'labels: { stable: 1 }\n' } });
    const server = await start({ m: canary(2) });
    expect((await call(server, 'POST', '/v1/endpoints/m/canary/pause', { reason: 'holiday' })).json).toMatchObject({ status: 'paused' });
    clock.advance(10 * 60_000);
    for (let i = 0; i < 100; i++) await infer(server, 'm');
    expect((await report(server, 'm')).canary).toMatchObject({ status: 'paused', stage: 1 });
    await call(server, 'POST', '/v1/endpoints/m/canary/resume');
    const rolled = await call(server, 'POST', '/v1/endpoints/m/canary/rollback', { reason: 'a bad feeling' });
    expect(rolled.json).toMatchObject({ status: 'rolled-back' });
    expect((rolled.json.history as { reason: string }[]).map((h) => h.reason)).toEqual(['holiday', 'resume through the API', 'a bad feeling']);
    expect(await call(server, 'POST', '/v1/endpoints/m/canary/promote')).toMatchObject({ status: 400, json: { reason: 'ENDPOINT_ACTION_INVALID' } });
  });
});

describe('blue-green', () => {
  it('keeps both loaded and switches atomically, both ways', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' } } });
    const server = await start({ bg: { blueGreen: { blue: { model: 'm', version: 1 }, green: { model: 'm', version: 2 }, active: 'blue' } } });
    expect(await infer(server, 'bg')).toMatchObject({ version: '1', parameters: { sibyl_variant: 'blue' } });
    const loads = runtime.loads.length;
    expect((await call(server, 'POST', '/v1/endpoints/bg/switch', { to: 'green' })).json).toEqual({ active: 'green' });
    expect(await infer(server, 'bg')).toMatchObject({ version: '2', parameters: { sibyl_variant: 'green' } });
    expect((await call(server, 'POST', '/v1/endpoints/bg/switch')).json).toEqual({ active: 'blue' });
    expect(await infer(server, 'bg')).toMatchObject({ version: '1' });
    expect(runtime.loads.length).toBe(loads); // nothing loaded: the switch is instant
  });
});

describe('shadow', () => {
  it('copies a fraction to the candidate after the answer, compares them, and never lets it fail the caller', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 1.25', 3: 'fail-runs' } } });
    const server = await start({
      s: { target: { model: 'm', version: 1 }, shadow: { target: { model: 'm', version: 2 }, fraction: 0.5 } },
      broken: { target: { model: 'm', version: 1 }, shadow: { target: { model: 'm', version: 3 }, fraction: 1 } },
    });
    for (let i = 0; i < 100; i++) expect(await infer(server, 's', [1, 2])).toMatchObject({ status: 200, version: '1' });
    for (let i = 0; i < 10; i++) expect(await infer(server, 'broken')).toMatchObject({ status: 200, version: '1' });
    await new Promise((r) => setTimeout(r, 50)); // shadows run after the answers, on the event loop
    const r = await report(server, 's');
    expect(r.shadow.sent).toBeGreaterThan(30);
    expect(r.shadow.sent).toBeLessThan(70);
    expect(r.shadow.compared).toBe(r.shadow.sent);
    expect(r.shadow.sameTopClassRate).toBe(1); // one column: the same index always
    expect(r.shadow.maxAbsDiff).toBeCloseTo(0.25, 6);
    expect(runtime.executionsOf('m:2')).toBe(r.shadow.sent);
    expect((await report(server, 'broken')).shadow).toMatchObject({ sent: 10, failed: 10, compared: 0 });
  });

  it('drops copies beyond its bound instead of queueing them', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' } } });
    const server = await start({ s: { target: { model: 'm', version: 1 }, shadow: { target: { model: 'm', version: 2 }, fraction: 1, maxInFlight: 2 } } });
    const held = runtime.hold('execute', 'm:2');
    for (let i = 0; i < 5; i++) expect((await infer(server, 's')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect((await report(server, 's')).shadow).toMatchObject({ sent: 2, dropped: 3 });
    held.release();
  });
});

describe('cascade', () => {
  it('answers confident rows from the cheap model and sends the rest on, row by row', async () => {
    // Stage 1 adds 0: confidence = x. Stage 2 adds 10.
    await writeModelRepository(repo, { small: { versions: { 1: 'add 0' } }, big: { versions: { 1: 'add 10' } } });
    const server = await start({ c: { cascade: { stages: [{ model: 'small', threshold: 0.9 }, { model: 'big' }] } } });
    const mixed = await infer(server, 'c', [0.95, 0.5, 0.99, 0.1]);
    expect(mixed.y!.map((v) => Number(v.toFixed(4)))).toEqual([0.95, 10.5, 0.99, 10.1]);
    expect(mixed).toMatchObject({ model: 'big', parameters: { sibyl_cascade_stage: 2, sibyl_cascade_escalated_rows: 2, sibyl_variant: 'stage-2' } });
    const sure = await infer(server, 'c', [0.97]);
    expect(sure).toMatchObject({ model: 'small', parameters: { sibyl_cascade_stage: 1, sibyl_variant: 'stage-1' } });
    const r = await report(server, 'c');
    expect(r.cascade.stages).toEqual([
      { target: 'small', threshold: 0.9, rowsIn: 5, answered: 3 },
      { target: 'big', threshold: null, rowsIn: 2, answered: 2 },
    ]);
  });
});

describe('fallback and circuit breaker', () => {
  it('answers with the default response while the target fails, and stops calling it once the breaker opens', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'fail-runs' } } });
    const server = await start({
      e: {
        target: { model: 'm' },
        fallback: { response: { outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: [0.01] }] } },
        breaker: { consecutiveFailures: 3, coolDownMs: 5000 },
      },
    });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await infer(server, 'e'));
    expect(answers.every((a) => a.status === 200 && a.parameters.sibyl_fallback === true)).toBe(true);
    expect(answers[0]!.y![0]).toBeCloseTo(0.01, 6);
    expect(answers[0]!.parameters.sibyl_fallback_reason).toMatch(/^m failed: instance m:1#0 fails every execution$/);
    expect(answers[5]!.parameters.sibyl_fallback_reason).toMatch(/^the circuit breaker of m is open \(a probe in \d+ ms\)$/);
    // The breaker opened after the third failure; the first also ran the version's probe once (it
    // had answered nothing, and the probe failed too: the failures are the server's).
    expect(runtime.executionsOf('m:1')).toBe(3 + 1);
    clock.advance(5000);
    await infer(server, 'e'); // the half-open probe
    expect(runtime.executionsOf('m:1')).toBe(5);
    expect((await report(server, 'e')).breakers).toEqual({ m: 'open' });
  });

  it('a fallback model answers when the target takes longer than the timeout', async () => {
    await writeModelRepository(repo, { slow: { versions: { 1: 'add 1' } }, quick: { versions: { 1: 'add 100' } } });
    const server = await start({ e: { target: { model: 'slow' }, fallback: { target: { model: 'quick' }, timeoutMs: 200 } } });
    const held = runtime.hold('execute', 'slow:1');
    const pending = infer(server, 'e', [1]);
    await new Promise((r) => setTimeout(r, 10));
    clock.advance(200);
    const answer = await pending;
    expect(answer).toMatchObject({ status: 200, model: 'quick', y: [101], parameters: { sibyl_fallback: true, sibyl_fallback_reason: "slow failed: slow took longer than the fallback's timeoutMs (200 ms)" } });
    held.release();
  });

  it('without a fallback, a failing target fails the request with its own error', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'fail-runs' } } });
    const server = await start({ e: { target: { model: 'm' } } });
    expect(await infer(server, 'e')).toMatchObject({ status: 500, body: { reason: 'RUNTIME_FAILED' } });
  });
});

describe('endpoints as names', () => {
  it('an endpoint named like a model takes its unaddressed requests; a version path goes to the model', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' } } });
    const server = await start({ m: { replacesModel: true, target: { model: 'm', version: 1 } } });
    expect(await infer(server, 'm')).toMatchObject({ version: '1', parameters: { sibyl_endpoint: 'm' } });
    const direct = await infer(server, 'm', [1], { url: '/v2/models/m/versions/2/infer' });
    expect(direct.version).toBe('2');
    expect(direct.parameters.sibyl_endpoint).toBeUndefined();
    expect((await call(server, 'GET', '/v2/models/m')).json).toMatchObject({ name: 'm', inputs: [{ name: 'x' }] });
  });

  it('an endpoint named like a model without replacesModel never takes its requests: the model answers', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' } } });
    const server = await start({ m: { target: { model: 'm', version: 1 } } });
    const answer = await infer(server, 'm');
    expect(answer.version).toBe('2');
    expect(answer.parameters.sibyl_endpoint).toBeUndefined();
  });

  it('metadata and readiness of an endpoint are those of the model it stands for', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    const server = await start({ front: { target: { model: 'm' } } });
    expect((await call(server, 'GET', '/v2/models/front')).json).toMatchObject({ name: 'front', versions: ['1'], inputs: [{ name: 'x', datatype: 'FP32' }] });
    expect((await call(server, 'GET', '/v2/models/front/ready')).json).toEqual({ name: 'front', ready: true });
    expect((await call(server, 'GET', '/v2/models/front/versions/1')).json).toMatchObject({ reason: 'ENDPOINT_ACTION_INVALID' });
  });
});

describe('endpoints through the API', () => {
  it('sets, reports, persists and deletes endpoints; refuses bad ones with the field and the reason', async () => {
    const stateFile = path.join(repo, '.state.sqlite');
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' } } });
    const server = await start({}, { store: await SqliteStateStore.open(stateFile) });
    const set = await call(server, 'PUT', '/v1/endpoints/web', { blueGreen: { blue: { model: 'm', version: 1 }, green: { model: 'm', version: 2 }, active: 'green' } });
    expect(set).toMatchObject({ status: 200, json: { name: 'web', policy: 'blueGreen', source: 'api', blueGreen: { active: 'green' } } });
    expect(await infer(server, 'web')).toMatchObject({ version: '2' });
    await call(server, 'POST', '/v1/endpoints/web/switch', { to: 'blue' });
    expect((await call(server, 'GET', '/v1/endpoints')).json).toEqual({ endpoints: [{ name: 'web', policy: 'blueGreen', source: 'api', description: '' }] });

    const bad = await call(server, 'PUT', '/v1/endpoints/web', { split: { arms: [{ name: 'a', model: 'm', weight: 0 }] }, canary: {} });
    expect(bad.status).toBe(400);
    expect(bad.json.reason).toBe('ENDPOINT_INVALID');
    expect(bad.json.error).toContain("endpoint 'web': canary.stable: is required");
    const missing = await call(server, 'PUT', '/v1/endpoints/web2', { target: { model: 'nope' } });
    expect(missing.json).toMatchObject({ reason: 'ENDPOINT_INVALID', error: "endpoint 'web2' cannot be set: model 'nope' is not in the repository" });

    await server.shutdown();
    const again = await start({}, { store: await SqliteStateStore.open(stateFile) });
    expect(await infer(again, 'web')).toMatchObject({ version: '1' }); // the switch to blue persisted
    expect(await call(again, 'DELETE', '/v1/endpoints/web')).toEqual({ status: 200, json: { result: 'removed' } });
    expect(await infer(again, 'web')).toMatchObject({ status: 404, body: { reason: 'MODEL_NOT_FOUND' } });
  });
});

describe('endpoint metrics', () => {
  it('counts requests and latencies per arm, shadows, fallbacks, breakers and cache lookups, exactly', async () => {
    await writeModelRepository(repo, {
      m: { versions: { 1: 'add 1', 2: 'add 2', 3: 'fail-runs' }, config: 'versionPolicy: { all: true }\nresponseCache: {}\n' },
    });
    const server = await start({
      bg: { blueGreen: { blue: { model: 'm', version: 1 }, green: { model: 'm', version: 2 }, active: 'blue' }, shadow: { target: { model: 'm', version: 2 }, fraction: 1 } },
      safe: { target: { model: 'm', version: 3 }, fallback: { response: { outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: [0] }] } }, breaker: { consecutiveFailures: 2 } },
    });
    for (let i = 0; i < 3; i++) await infer(server, 'bg', [i]);
    await infer(server, 'bg', [0]); // the same input again: a cache hit
    await call(server, 'POST', '/v1/endpoints/bg/switch');
    await infer(server, 'bg', [5]);
    const bad = await infer(server, 'bg', [1, 2], { url: '/v2/models/bg/infer' });
    expect(bad.status).toBe(200);
    for (let i = 0; i < 3; i++) await infer(server, 'safe');
    await new Promise((r) => setTimeout(r, 30)); // shadows run after the answers
    const text = (await server.http.inject({ method: 'GET', url: '/metrics' })).body;
    const m = parsePrometheusText(text);
    expect(sampleValue(m, 'sibyl_endpoint_requests_total', { endpoint: 'bg', arm: 'blue', outcome: 'success' })).toBe(4);
    expect(sampleValue(m, 'sibyl_endpoint_requests_total', { endpoint: 'bg', arm: 'green', outcome: 'success' })).toBe(2);
    expect(sampleValue(m, 'sibyl_endpoint_request_duration_seconds_count', { endpoint: 'bg', arm: 'blue' })).toBe(4);
    expect(sampleValue(m, 'sibyl_endpoint_shadow_requests_total', { endpoint: 'bg', outcome: 'sent' })).toBe(6);
    expect(sampleValue(m, 'sibyl_endpoint_shadow_requests_total', { endpoint: 'bg', outcome: 'compared' })).toBe(6);
    // blue (add 1) against green (add 2): one column, so the top class always agrees.
    expect(sampleValue(m, 'sibyl_endpoint_shadow_rows_total', { endpoint: 'bg', agreement: 'same_top_class' })).toBe(7);
    expect(sampleValue(m, 'sibyl_endpoint_shadow_max_abs_difference', { endpoint: 'bg' })).toBe(1);
    expect(sampleValue(m, 'sibyl_endpoint_requests_total', { endpoint: 'safe', arm: 'default', outcome: 'server_error' })).toBe(3);
    expect(sampleValue(m, 'sibyl_endpoint_fallbacks_total', { endpoint: 'safe', reason: 'failed' })).toBe(2);
    expect(sampleValue(m, 'sibyl_endpoint_fallbacks_total', { endpoint: 'safe', reason: 'breaker open' })).toBe(1);
    expect(sampleValue(m, 'sibyl_endpoint_breaker_open', { endpoint: 'safe', target: 'm:3' })).toBe(1);
    expect(sampleValue(m, 'sibyl_response_cache_lookups_total', { model: 'm', version: '1', result: 'hit' })).toBe(1);
    expect(sampleValue(m, 'sibyl_response_cache_lookups_total', { model: 'm', version: '1', result: 'miss' })).toBe(3);
  });
});
