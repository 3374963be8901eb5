// The management surface over a scripted fetch: which method, path and body each call sends,
// what it answers, how the server's errors come back, and which calls are retried when.
import { describe, expect, it } from 'vitest';
import { MAX_LOOKUP_KEYS } from '@sibyl/protocol';
import { ClientError } from '../errors.ts';
import { SibylManagement } from './management.ts';

interface Sent {
  method: string;
  url: string;
  body: unknown;
  contentType: string | undefined;
}

type Answer = { status?: number; body?: unknown; text?: string; headers?: Record<string, string> } | 'refused';

/** A fetch answering the scripted answers in order, recording what was sent. */
function scripted(answers: Answer[]) {
  const sent: Sent[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    sent.push({ method: init.method ?? 'GET', url, body: init.body === undefined ? undefined : JSON.parse(init.body as string), contentType: headers['content-type'] });
    const answer = answers.shift();
    if (answer === undefined) throw new Error('no more answers');
    if (answer === 'refused') throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    const text = answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
    return new Response(text, { status: answer.status ?? 200, headers: answer.headers });
  }) as unknown as typeof globalThis.fetch;
  const management = new SibylManagement('http://sibyl.test:8000/', { fetch, sleep: async () => {}, random: () => 0 });
  return { management, sent };
}

const MODEL = {
  name: 'iris',
  wanted: true,
  default_version: '2',
  problem: '',
  warnings: [],
  labels: { stable: { version: '2', source: 'api', history: ['1'] } },
  versions: [{ version: '2', state: 'READY', reason: '', load_ms: 12, loads_on_demand: false, incompatible_signature: null }],
};

describe('SibylManagement: what each call sends and answers', () => {
  it('models: list, status, versions, load with a config, unload, index', async () => {
    const { management: m, sent } = scripted([{ body: { models: [MODEL] } }, { body: MODEL }, { body: MODEL }, { body: {} }, { body: {} }, { body: [{ name: 'iris', version: '2', state: 'READY', reason: '' }] }]);
    expect(await m.models.list()).toEqual([MODEL]);
    expect((await m.models.status('iris')).default_version).toBe('2');
    expect((await m.models.versions('iris')).map((v) => v.version)).toEqual(['2']);
    await m.models.load('a b', { config: { max_batch_size: 8 } });
    await m.models.unload('iris');
    expect(await m.models.index({ readyOnly: true })).toHaveLength(1);
    expect(sent.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET http://sibyl.test:8000/v2/repository/models',
      'GET http://sibyl.test:8000/v2/repository/models/iris',
      'GET http://sibyl.test:8000/v2/repository/models/iris',
      'POST http://sibyl.test:8000/v2/repository/models/a%20b/load',
      'POST http://sibyl.test:8000/v2/repository/models/iris/unload',
      'POST http://sibyl.test:8000/v2/repository/index',
    ]);
    expect(sent[3]).toMatchObject({ body: { parameters: { config: '{"max_batch_size":8}' } }, contentType: 'application/json' });
    expect(sent[4]).toMatchObject({ body: undefined, contentType: undefined });
    expect(sent[5]!.body).toEqual({ ready: true });
  });

  it('labels: read, move, delete, roll back', async () => {
    const moved = { name: 'iris', label: 'stable', version: '3', source: 'api', history: ['1', '2'] };
    const rolled = { name: 'iris', label: 'canary', version: '2', previous_version: '3' };
    const { management: m, sent } = scripted([{ body: { name: 'iris', labels: MODEL.labels } }, { body: moved }, { body: {} }, { body: rolled }]);
    expect((await m.models.labels('iris')).labels.stable!.version).toBe('2');
    expect(await m.models.moveLabel('iris', 'stable', 3)).toEqual(moved);
    await m.models.deleteLabel('iris', 'old/x');
    expect(await m.models.rollback('iris', 'canary')).toEqual(rolled);
    expect(sent.map((s) => `${s.method} ${s.url.replace('http://sibyl.test:8000', '')}`)).toEqual([
      'GET /v2/repository/models/iris/labels',
      'PUT /v2/repository/models/iris/labels/stable',
      'DELETE /v2/repository/models/iris/labels/old%2Fx',
      'POST /v2/repository/models/iris/labels/canary/rollback',
    ]);
    expect(sent[1]!.body).toEqual({ version: 3 });
  });

  it('the prediction log query, the log level and the state snapshot', async () => {
    const snapshot = { format: 'sibyl-state', formatVersion: 1, exportedAt: '2026-01-01T00:00:00.000Z', entries: { labels: { 'iris/stable': 2 } } } as const;
    const { management: m, sent } = scripted([{ body: { model: 'iris', predictions: [] } }, { body: { level: 'info' } }, { body: { level: 'debug' } }, { body: snapshot }, { body: {} }]);
    expect(await m.models.predictions('iris', { since: '2026-01-31T12:00:00Z', version: '2', limit: 5 })).toEqual({ model: 'iris', predictions: [] });
    expect(await m.logging.level()).toBe('info');
    expect(await m.logging.setLevel('debug')).toBe('debug');
    expect(await m.state.export()).toEqual(snapshot);
    await m.state.restore(snapshot);
    expect(sent.map((s) => `${s.method} ${s.url.replace('http://sibyl.test:8000', '')}`)).toEqual([
      'GET /v1/models/iris/predictions?limit=5&since=2026-01-31T12%3A00%3A00Z&version=2',
      'GET /v2/logging',
      'POST /v2/logging',
      'GET /v2/repository/state',
      'PUT /v2/repository/state',
    ]);
    expect(sent[2]!.body).toEqual({ level: 'debug' });
    expect(sent[4]!.body).toEqual(snapshot);
  });

  it('endpoints: list, report, put, delete, canary actions, switch, feedback', async () => {
    const canary = { status: 'rolled-back', stage: 1, stages: [5, 50], candidateShare: 0, stageStartedAt: '', stable: 'm:1', candidate: 'm:2', history: [] };
    const { management: m, sent } = scripted([
      { body: { endpoints: [{ name: 'web', policy: 'blueGreen', source: 'api', description: '' }] } },
      { body: { name: 'web' } },
      { body: { name: 'web' } },
      { body: { result: 'removed' } },
      { body: canary },
      { body: canary },
      { body: { active: 'green' } },
      { body: { active: 'blue' } },
      { body: { recorded: [{ id: 'r1', arm: 'stable' }], unmatched: [] } },
      { body: { recorded: [], unmatched: ['r2'] } },
    ]);
    expect((await m.endpoints.list()).map((e) => e.name)).toEqual(['web']);
    expect((await m.endpoints.get('web')).name).toBe('web');
    await m.endpoints.put('web', { blueGreen: { blue: 'm:1', green: 'm:2' } });
    expect(await m.endpoints.delete('web')).toBe('removed');
    expect((await m.endpoints.rollback('churn', 'p99 regressed')).status).toBe('rolled-back');
    await m.endpoints.canary('churn', 'pause');
    expect(await m.endpoints.switch('web')).toBe('green');
    expect(await m.endpoints.switch('web', 'blue')).toBe('blue');
    expect((await m.endpoints.feedback('churn', { id: 'r1', outcome: true })).recorded).toEqual([{ id: 'r1', arm: 'stable' }]);
    expect((await m.endpoints.feedback('churn', [{ id: 'r2', outcome: 0 }])).unmatched).toEqual(['r2']);
    expect(sent.map((s) => `${s.method} ${s.url.replace('http://sibyl.test:8000', '')} ${JSON.stringify(s.body) ?? ''}`)).toEqual([
      'GET /v1/endpoints ',
      'GET /v1/endpoints/web ',
      'PUT /v1/endpoints/web {"blueGreen":{"blue":"m:1","green":"m:2"}}',
      'DELETE /v1/endpoints/web ',
      'POST /v1/endpoints/churn/canary/rollback {"reason":"p99 regressed"}',
      'POST /v1/endpoints/churn/canary/pause ',
      'POST /v1/endpoints/web/switch ',
      'POST /v1/endpoints/web/switch {"to":"blue"}',
      'POST /v1/endpoints/churn/feedback {"id":"r1","outcome":true}',
      'POST /v1/endpoints/churn/feedback {"feedback":[{"id":"r2","outcome":0}]}',
    ]);
  });

  it('batch jobs: start, list, get, cancel, resume, schedules, stored predictions', async () => {
    const job = { id: 'j1', name: 'nightly', status: 'running', spec: {}, origin: 'api', createdAtMs: 1, rowsRead: 0, rowsWritten: 0, rowsRejected: 0, chunksCommitted: 0 };
    const { management: m, sent } = scripted([{ status: 202, body: job }, { body: { jobs: [job] } }, { body: job }, { body: { ...job, status: 'cancelled' } }, { status: 202, body: job }, { body: { schedules: [] } }, { body: { model: 'churn', key: 'a|1' } }]);
    expect((await m.jobs.start({ jobFile: '/jobs/nightly.yaml' })).id).toBe('j1');
    expect(await m.jobs.list({ limit: '20', name: 'nightly' })).toEqual([job]);
    expect((await m.jobs.get('j1')).name).toBe('nightly');
    expect((await m.jobs.cancel('j1')).status).toBe('cancelled');
    await m.jobs.resume('j1');
    expect(await m.jobs.schedules()).toEqual([]);
    expect((await m.jobs.stored('churn', 'a|1')).key).toBe('a|1');
    expect(sent.map((s) => `${s.method} ${s.url.replace('http://sibyl.test:8000', '')} ${JSON.stringify(s.body) ?? ''}`)).toEqual([
      'POST /v1/batch/jobs {"jobFile":"/jobs/nightly.yaml"}',
      'GET /v1/batch/jobs?limit=20&name=nightly ',
      'GET /v1/batch/jobs/j1 ',
      'POST /v1/batch/jobs/j1/cancel ',
      'POST /v1/batch/jobs/j1/resume ',
      'GET /v1/batch/schedules ',
      'GET /v1/predictions/churn/a%7C1 ',
    ]);
  });

  it('looks keys up in requests of at most MAX_LOOKUP_KEYS, joining the answers in order', async () => {
    const keys = Array.from({ length: MAX_LOOKUP_KEYS + 2 }, (_, i) => `k${i}`);
    const p = (key: string) => ({ model: 'churn', key, version: '1', jobId: 'j', createdAt: '', createdAtMs: 0, ageMs: 0, outputs: [] });
    const { management: m, sent } = scripted([{ body: { model: 'churn', predictions: [p('k0')], missing: ['k1'] } }, { body: { model: 'churn', predictions: [p('k1001')], missing: ['k1000'] } }]);
    const found = await m.jobs.lookup('churn', keys);
    expect(found).toEqual({ model: 'churn', predictions: [p('k0'), p('k1001')], missing: ['k1', 'k1000'] });
    expect(sent.map((s) => (s.body as { keys: string[] }).keys.length)).toEqual([MAX_LOOKUP_KEYS, 2]);
  });
});

describe('SibylManagement: errors and retries', () => {
  it("throws the server's error with its code, reason and status", async () => {
    const { management: m } = scripted([{ status: 404, body: { error: "model 'nope' is not in the repository", code: 'NOT_FOUND', reason: 'MODEL_NOT_FOUND' } }]);
    const error = await m.models.status('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code: 'NOT_FOUND', reason: 'MODEL_NOT_FOUND', status: 404, message: "model 'nope' is not in the repository" });
  });

  it('an unreachable server is UNAVAILABLE with no status; an answer that is not JSON is MALFORMED_RESPONSE', async () => {
    const { management: m } = scripted(['refused', 'refused', 'refused', { text: '<html>' }]);
    await expect(m.endpoints.list()).rejects.toMatchObject({ code: 'UNAVAILABLE', status: undefined, message: 'could not reach http://sibyl.test:8000/v1/endpoints: ECONNREFUSED' });
    await expect(m.endpoints.list()).rejects.toMatchObject({ code: 'INTERNAL', reason: 'MALFORMED_RESPONSE', status: 200 });
  });

  it('retries an idempotent call when the server cannot take it now, or cannot be reached', async () => {
    const { management: m, sent } = scripted([{ status: 503, body: { error: 'draining', code: 'UNAVAILABLE', reason: 'SERVER_DRAINING' } }, 'refused', { body: { level: 'warn' } }]);
    expect(await m.logging.level()).toBe('warn');
    expect(sent).toHaveLength(3);
  });

  it('retries a call that acts each time only when the server answered that it did not run it', async () => {
    const job = { id: 'j1' };
    const drained = scripted([{ status: 503, body: { error: 'draining', code: 'UNAVAILABLE', reason: 'SERVER_DRAINING' } }, { status: 202, body: job }]);
    expect(await drained.management.jobs.start({ jobFile: 'x.yaml' })).toEqual(job);
    expect(drained.sent).toHaveLength(2);
    const lost = scripted(['refused', { status: 202, body: job }]);
    await expect(lost.management.jobs.start({ jobFile: 'x.yaml' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(lost.sent).toHaveLength(1);
  });

  it('never retries an error of the request, and honours retry: false', async () => {
    const bad = scripted([{ status: 400, body: { error: 'bad', code: 'INVALID_ARGUMENT', reason: 'MALFORMED_REQUEST' } }, { body: {} }]);
    await expect(bad.management.models.moveLabel('iris', 'stable', 'x')).rejects.toMatchObject({ reason: 'MALFORMED_REQUEST' });
    expect(bad.sent).toHaveLength(1);
    const once = scripted(['refused', { body: { level: 'info' } }]);
    await expect(once.management.logging.level({ retry: false })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(once.sent).toHaveLength(1);
  });
});
