// Model lifecycle through the HTTP API, in process, with the scripted runtime: each model.onnx is
// a script ("add 2" answers y = x + 2), so a response shows which version answered, and loads
// and executions can be held to look at the server in the middle of a swap or a drain.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { SqliteStateStore } from '../src/state/sqlite-state-store.ts';
import { ScriptedRuntime, createTestServer, makeTempDir, parsePrometheusText, removeDir, sampleValue, writeModelRepository, type TestServerOptions } from '../src/testing/index.ts';

let repo: string;
let runtime: ScriptedRuntime;
const servers: SibylServer[] = [];

beforeEach(async () => {
  repo = await makeTempDir('sibyl-lifecycle-');
  runtime = new ScriptedRuntime();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.shutdown()));
  await removeDir(repo);
});

async function start(options: TestServerOptions = {}): Promise<SibylServer> {
  const server = await createTestServer(repo, { runtime, repositoryPollIntervalMs: 86_400_000, drainTimeoutMs: 5000, ...options });
  servers.push(server);
  return server;
}

/** Writes `<repo>/<model>/<version>/model.onnx` with a script, atomically (rename), as a deploy tool should. */
async function writeVersion(model: string, version: number, script: string): Promise<void> {
  const dir = path.join(repo, model, String(version));
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, '.model.onnx.tmp'), script);
  await rename(path.join(dir, '.model.onnx.tmp'), path.join(dir, 'model.onnx'));
}

interface Answer {
  status: number;
  version?: string;
  y?: number;
  body: Record<string, unknown>;
}

async function infer(server: SibylServer, url: string, x = 1, parameters?: Record<string, unknown>): Promise<Answer> {
  const res = await server.http.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [x] }], ...(parameters === undefined ? {} : { parameters }) }),
  });
  const body = res.json() as Record<string, unknown>;
  const outputs = body.outputs as { data: number[] }[] | undefined;
  return { status: res.statusCode, version: body.model_version as string | undefined, y: outputs?.[0]?.data[0], body };
}

async function call(server: SibylServer, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await server.http.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.statusCode, json: res.json() as Record<string, unknown> };
}

const states = (server: SibylServer, model: string): string[] => server.models.status(model).versions.map((v) => `${v.version}:${v.state}`);

describe('version policy', () => {
  it('loads the versions the policy selects and says why the others are not served', async () => {
    await writeModelRepository(repo, {
      one: { versions: { 1: 'add 1', 2: 'add 2', 3: 'add 3' } },
      two: { versions: { 1: 'add 1', 2: 'add 2', 3: 'add 3' }, config: 'versionPolicy: { latest: 2 }\n' },
      some: { versions: { 1: 'add 1', 2: 'add 2', 3: 'add 3' }, config: 'versionPolicy: { specific: [1, 3, 9] }\n' },
      every: { versions: { 1: 'add 1', 2: 'add 2' }, config: 'versionPolicy: { all: true }\n' },
    });
    const server = await start();
    expect(states(server, 'one')).toEqual(['1:UNAVAILABLE', '2:UNAVAILABLE', '3:READY']);
    expect(server.models.status('one').versions[0]!.reason).toBe('not served: the version policy (latest: 1) selects 3');
    expect(states(server, 'two')).toEqual(['1:UNAVAILABLE', '2:READY', '3:READY']);
    expect(states(server, 'some')).toEqual(['1:READY', '2:UNAVAILABLE', '3:READY']);
    expect(server.models.status('some').warnings).toEqual(['versionPolicy names version 9, which is not in the repository']);
    expect(states(server, 'every')).toEqual(['1:READY', '2:READY']);
    // Unaddressed requests go to the newest READY version; others by number.
    expect(await infer(server, '/v2/models/some/infer')).toMatchObject({ status: 200, version: '3', y: 4 });
    expect(await infer(server, '/v2/models/some/versions/1/infer')).toMatchObject({ status: 200, version: '1', y: 2 });
    const notServed = await infer(server, '/v2/models/some/versions/2/infer');
    expect(notServed).toMatchObject({ status: 503, body: { reason: 'MODEL_NOT_READY' } });
    expect(notServed.body.error).toContain('not served: the version policy (specific: [1, 3, 9]) selects 1, 3');
  });

  it('a config that sets two policies is a clear error of that model only', async () => {
    await writeModelRepository(repo, {
      bad: { versions: { 1: 'add 1' }, config: 'versionPolicy: { latest: 1, all: true }\n' },
      good: { versions: { 1: 'add 1' } },
    });
    const server = await start();
    expect(server.models.status('bad').problem).toBe(
      `config error: ${repo}/bad/config.yaml: versionPolicy: sets latest and all; expected exactly one of latest (a count), specific (a list of versions) or all: true`,
    );
    expect(states(server, 'bad')).toEqual(['1:UNAVAILABLE']);
    expect((await infer(server, '/v2/models/good/infer')).status).toBe(200);
  });
});

describe('poll mode', () => {
  it('hot swap: the new version loads while the old serves, then the old drains its requests and unloads', async () => {
    await writeVersion('m', 1, 'add 1');
    const server = await start({ modelControlMode: 'poll' });
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '1', y: 2 });

    // A request in flight on version 1 when the swap happens.
    const v1Busy = runtime.hold('execute', 'm:1');
    const inFlight = infer(server, '/v2/models/m/infer');
    const v2Load = runtime.hold('load', 'm:2');
    await writeVersion('m', 2, 'add 2');
    await server.models.poll();
    await vi.waitFor(() => expect(states(server, 'm')).toEqual(['1:READY', '2:LOADING']));
    v1Busy.release();
    expect(await inFlight).toMatchObject({ status: 200, version: '1', y: 2 });
    // While version 2 loads, version 1 answers.
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ status: 200, version: '1' });

    const v1Drain = runtime.hold('execute', 'm:1');
    const queuedOnV1 = infer(server, '/v2/models/m/infer');
    await vi.waitFor(() => expect(v1Drain.waiters).toBe(1));
    v2Load.release();
    await vi.waitFor(() => expect(states(server, 'm')).toEqual(['1:UNLOADING', '2:READY']));
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ status: 200, version: '2', y: 3 });
    v1Drain.release();
    expect(await queuedOnV1).toMatchObject({ status: 200, version: '1', y: 2 });
    await server.models.whenSettled();
    expect(states(server, 'm')).toEqual(['1:UNAVAILABLE', '2:READY']);
    expect(server.models.status('m').versions[0]!.reason).toBe('unloaded: replaced by version 2; the version policy (latest: 1) selects 2');
    expect(runtime.liveLabels()).toEqual(['m:2#0']);
  });

  it('a version that fails to load never replaces the good one; fixed files are loaded again', async () => {
    await writeVersion('m', 1, 'add 1');
    const server = await start({ modelControlMode: 'poll' });
    await writeVersion('m', 2, 'fail Protobuf parsing failed.');
    await server.models.poll();
    await server.models.whenSettled();
    expect(states(server, 'm')).toEqual(['1:READY', '2:UNAVAILABLE']);
    expect(server.models.status('m').versions[1]!.reason).toBe('load failed: Protobuf parsing failed.');
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '1', y: 2 });
    // The same files are not tried again on every poll.
    await server.models.poll();
    await server.models.whenSettled();
    expect(runtime.loads.filter((l) => l.startsWith('m:2'))).toHaveLength(1);

    await writeVersion('m', 2, 'add 2');
    await server.models.poll();
    await server.models.whenSettled();
    expect(states(server, 'm')).toEqual(['1:UNAVAILABLE', '2:READY']);
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '2', y: 3 });
  });

  it('a removed version unloads once the next one serves; a removed model unloads and leaves the index', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' }, config: 'versionPolicy: { all: true }\n' }, gone: { versions: { 1: 'add 1' } } });
    const server = await start({ modelControlMode: 'poll' });
    await rm(path.join(repo, 'm', '1'), { recursive: true });
    await rm(path.join(repo, 'gone'), { recursive: true });
    await server.models.poll();
    await server.models.whenSettled();
    expect(states(server, 'm')).toEqual(['2:READY']);
    expect(server.models.index().map((r) => r.name)).toEqual(['m']);
    expect((await infer(server, '/v2/models/gone/infer')).body).toMatchObject({ reason: 'MODEL_NOT_FOUND' });
  });

  it('a scan that sees the old version gone before the new one came keeps the old one serving', async () => {
    await writeVersion('m', 1, 'add 1');
    const server = await start({ modelControlMode: 'poll' });
    await rm(path.join(repo, 'm', '1'), { recursive: true }); // the folder m/ stays
    await server.models.poll();
    await server.models.whenSettled();
    expect(server.models.status('m').versions).toMatchObject([{ version: 1, state: 'READY', reason: 'serving on: nothing in the repository is selected now (the version policy (latest: 1) selects no version)' }]);
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ status: 200, version: '1' });
    await writeVersion('m', 2, 'add 2');
    await server.models.poll();
    await server.models.whenSettled();
    expect(states(server, 'm')).toEqual(['2:READY']);
  });

  it('a new model folder loads; a changed config reloads the version beside the old generation', async () => {
    await writeVersion('m', 1, 'add 1');
    const server = await start({ modelControlMode: 'poll' });
    await writeVersion('fresh', 1, 'add 10');
    await writeFile(path.join(repo, 'm', 'config.yaml'), 'maxQueueSize: 7\n');
    const reload = runtime.hold('load', 'm:1');
    await server.models.poll();
    await vi.waitFor(() => expect(server.models.status('m').versions[0]).toMatchObject({ state: 'READY', reason: 'reloading with changed files; the earlier load serves meanwhile' }));
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ status: 200, version: '1' });
    reload.release();
    await server.models.whenSettled();
    expect(states(server, 'm')).toEqual(['1:READY']);
    expect(runtime.loads.filter((l) => l.startsWith('m:1'))).toEqual(['m:1#0', 'm:1#0']);
    expect(runtime.closed).toEqual(['m:1#0']);
    expect(await infer(server, '/v2/models/fresh/infer')).toMatchObject({ status: 200, y: 11 });
  });

  it('a config that stops compiling keeps the one in use, and says so', async () => {
    await writeVersion('m', 1, 'add 1');
    const server = await start({ modelControlMode: 'poll' });
    await writeFile(path.join(repo, 'm', 'config.yaml'), 'maxQueueSize: lots\n');
    await server.models.poll();
    await server.models.whenSettled();
    expect(server.models.status('m').problem).toBe(`config error: ${repo}/m/config.yaml: maxQueueSize: "lots" is not allowed; expected an integer from 0 to 10000000`);
    expect(states(server, 'm')).toEqual(['1:READY']);
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ status: 200, y: 2 });
  });
});

describe('labels', () => {
  it('config labels route unaddressed requests to stable and label paths to their version', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2', 3: 'add 3' }, config: 'labels: { stable: 2, canary: 3 }\n' } });
    const server = await start();
    // The policy (latest: 1) selects 3; the labels add 2.
    expect(states(server, 'm')).toEqual(['1:UNAVAILABLE', '2:READY', '3:READY']);
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '2', y: 3 });
    expect(await infer(server, '/v2/models/m/labels/canary/infer')).toMatchObject({ version: '3', y: 4 });
    expect(await infer(server, '/v2/models/m/versions/canary/infer')).toMatchObject({ version: '3' });
    expect((await call(server, 'GET', '/v2/models/m/labels/stable/ready')).json).toEqual({ name: 'm', ready: true });
    const missing = await infer(server, '/v2/models/m/labels/blue/infer');
    expect(missing).toMatchObject({ status: 404, body: { reason: 'LABEL_NOT_FOUND', error: "model 'm' has no label 'blue'; its labels are canary, stable" } });
  });

  it('moving a label loads its version first, then switches atomically; rollback returns; state persists', async () => {
    const stateFile = path.join(repo, '.state.sqlite');
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' }, config: 'labels: { stable: 1 }\n' } });
    const server = await start({ store: await SqliteStateStore.open(stateFile) });
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '1' });

    const moved = await call(server, 'PUT', '/v2/repository/models/m/labels/stable', { version: 2 });
    expect(moved).toEqual({ status: 200, json: { name: 'm', label: 'stable', version: '2', source: 'api', history: ['1'] } });
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '2', y: 3 });
    await server.models.whenSettled();
    // Version 1, stable's previous target, stays loaded: a rollback switches at once.
    expect(states(server, 'm')).toEqual(['1:READY', '2:READY']);
    const loadsBefore = runtime.loads.length;

    const back = await call(server, 'POST', '/v2/repository/models/m/labels/stable/rollback');
    expect(back).toEqual({ status: 200, json: { name: 'm', label: 'stable', version: '1', previous_version: '2' } });
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '1', y: 2 });
    expect(runtime.loads.length).toBe(loadsBefore); // nothing had to load
    const none = await call(server, 'POST', '/v2/repository/models/m/labels/stable/rollback');
    expect(none).toMatchObject({ status: 400, json: { reason: 'ROLLBACK_UNAVAILABLE' } });
    // A label set once, with nothing before it (the README's first step): the answer says why, and what to do.
    await call(server, 'PUT', '/v2/repository/models/m/labels/blue', { version: 1 });
    expect((await call(server, 'POST', '/v2/repository/models/m/labels/blue/rollback')).json).toEqual({
      error:
        "label 'blue' of model 'm' has no earlier target: it points at version 1 and no earlier target is left in its history (a label's first move has none; each rollback uses one); a rollback returns a label to the version it pointed at before its last move through the API (sibyl models label m blue <version> moves it); to take the label away, sibyl models label m blue --delete",
      code: 'FAILED_PRECONDITION',
      reason: 'ROLLBACK_UNAVAILABLE',
    });
    await call(server, 'DELETE', '/v2/repository/models/m/labels/blue');

    await call(server, 'PUT', '/v2/repository/models/m/labels/canary', { version: '2' });
    await server.shutdown();
    const again = await start({ store: await SqliteStateStore.open(stateFile) });
    expect((await call(again, 'GET', '/v2/repository/models/m/labels')).json).toEqual({
      name: 'm',
      labels: { canary: { version: '2', source: 'api', history: [] }, stable: { version: '1', source: 'api', history: [] } },
    });
    expect(await infer(again, '/v2/models/m/infer')).toMatchObject({ version: '1' });
    expect(await infer(again, '/v2/models/m/labels/canary/infer')).toMatchObject({ version: '2' });
  });

  it('refuses a label at a missing or broken version and a bad label name, changing nothing', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'fail corrupt file' }, config: 'versionPolicy: { specific: [1] }\nlabels: { stable: 1, ghost: 7 }\n' } });
    const server = await start();
    expect(server.models.status('m').warnings).toEqual(["label 'ghost' points at version 7, which is not in the repository"]);
    expect((await infer(server, '/v2/models/m/labels/ghost/infer')).body).toMatchObject({ reason: 'MODEL_NOT_READY' });
    expect(await call(server, 'PUT', '/v2/repository/models/m/labels/stable', { version: 9 })).toMatchObject({
      status: 400,
      json: { reason: 'LABEL_INVALID', error: "cannot point label 'stable' of model 'm' at version 9: the model has no version 9; its versions are 1, 2" },
    });
    const broken = await call(server, 'PUT', '/v2/repository/models/m/labels/stable', { version: 2 });
    expect(broken).toMatchObject({ status: 400, json: { reason: 'LABEL_INVALID' } });
    expect(broken.json.error).toBe("cannot point label 'stable' of model 'm' at version 2: it cannot serve (UNAVAILABLE: load failed: corrupt file)");
    expect(await call(server, 'PUT', '/v2/repository/models/m/labels/9lives', { version: 1 })).toMatchObject({ status: 400, json: { reason: 'LABEL_INVALID' } });
    expect(await call(server, 'PUT', '/v2/repository/models/m/labels/stable', { version: 'two' })).toMatchObject({ status: 400, json: { reason: 'MALFORMED_REQUEST' } });
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '1' });
    expect(await call(server, 'DELETE', '/v2/repository/models/m/labels/stable')).toMatchObject({ status: 400, json: { reason: 'LABEL_INVALID' } });
  });
});

describe('explicit mode', () => {
  it('loads only what is asked, at start-up and through the API; a restart keeps explicit loads', async () => {
    const stateFile = path.join(repo, '.state.sqlite');
    await writeModelRepository(repo, { a: { versions: { 1: 'add 1' } }, b: { versions: { 1: 'add 2' } }, c: { versions: { 1: 'add 3' } } });
    const server = await start({ modelControlMode: 'explicit', loadModels: ['a'], store: await SqliteStateStore.open(stateFile) });
    expect(server.models.index().map((r) => `${r.name}:${r.state}`)).toEqual(['a:READY', 'b:UNAVAILABLE', 'c:UNAVAILABLE']);
    expect(server.models.status('b').versions[0]!.reason).toBe('not loaded: load the model with POST /v2/repository/models/b/load (model control mode explicit)');

    expect(await call(server, 'POST', '/v2/repository/models/b/load')).toEqual({ status: 200, json: {} });
    expect(await infer(server, '/v2/models/b/infer')).toMatchObject({ status: 200, y: 3 });
    expect(await call(server, 'POST', '/v2/repository/models/a/unload')).toEqual({ status: 200, json: {} });
    expect(await infer(server, '/v2/models/a/infer')).toMatchObject({ status: 503, body: { reason: 'MODEL_NOT_READY' } });
    expect(runtime.liveLabels()).toEqual(['b:1#0']);

    // A version added to a loaded model is picked up by the next load (a hot swap through the API).
    await writeVersion('b', 2, 'add 20');
    expect((await call(server, 'POST', '/v2/repository/models/b/load')).status).toBe(200);
    expect(await infer(server, '/v2/models/b/infer')).toMatchObject({ version: '2', y: 21 });

    await server.shutdown();
    // At restart the recorded loads and unloads win over --load-model.
    const again = await start({ modelControlMode: 'explicit', loadModels: ['a'], store: await SqliteStateStore.open(stateFile) });
    expect(again.models.index().map((r) => `${r.name}:${r.version}:${r.state}`)).toEqual(['a:1:UNAVAILABLE', 'b:1:UNAVAILABLE', 'b:2:READY', 'c:1:UNAVAILABLE']);
  });

  it('a load with a config parameter uses it in place of config.yaml', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' } } });
    const server = await start({ modelControlMode: 'explicit' });
    const res = await call(server, 'POST', '/v2/repository/models/m/load', { parameters: { config: JSON.stringify({ versionPolicy: { all: true } }) } });
    expect(res.status).toBe(200);
    expect(states(server, 'm')).toEqual(['1:READY', '2:READY']);
    const bad = await call(server, 'POST', '/v2/repository/models/m/load', { parameters: { config: '{"instanceCount": 0}' } });
    expect(bad).toMatchObject({ status: 400, json: { reason: 'MODEL_LOAD_FAILED' } });
    expect(bad.json.error).toContain("load request for 'm' (parameters.config): instanceCount: 0 is not allowed");
    const files = await call(server, 'POST', '/v2/repository/models/m/load', { parameters: { 'file:1/model.onnx': 'AAAA' } });
    expect(files).toMatchObject({ status: 501, json: { reason: 'NOT_SUPPORTED' } });
  });

  it('a load that fails says why, and the last good version keeps serving', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    const server = await start({ modelControlMode: 'explicit', loadModels: ['*'] });
    await writeVersion('m', 2, 'fail unknown op Foo');
    const res = await call(server, 'POST', '/v2/repository/models/m/load');
    expect(res).toEqual({ status: 400, json: { error: "model 'm' failed to load: version 2: load failed: unknown op Foo; version 1 keeps serving", code: 'FAILED_PRECONDITION', reason: 'MODEL_LOAD_FAILED' } });
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '1' });
    expect((await call(server, 'POST', '/v2/repository/models/nothing/load')).json).toMatchObject({ reason: 'MODEL_NOT_FOUND' });
  });

  it('a reload with a config whose warm-up fails is 400 MODEL_LOAD_FAILED naming the version, and changes nothing that serves', async () => {
    const stateFile = path.join(repo, '.state.sqlite');
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    const server = await start({ modelControlMode: 'explicit', loadModels: ['*'], store: await SqliteStateStore.open(stateFile) });
    expect(await call(server, 'POST', '/v2/repository/models/m/load', { parameters: { config: '{"maxQueueSize": 10}' } })).toEqual({ status: 200, json: {} });
    const res = await call(server, 'POST', '/v2/repository/models/m/load', { parameters: { config: JSON.stringify({ warmup: { samplesFile: 'nothing.json' } }) } });
    expect(res).toMatchObject({ status: 400, json: { code: 'FAILED_PRECONDITION', reason: 'MODEL_LOAD_FAILED' } });
    // The samples file of a config given with the load is relative to the model folder, as in config.yaml.
    expect(res.json.error).toBe(
      `model 'm' failed to load: version 1: reload with changed files or config failed, the earlier load keeps serving: warm-up failed: cannot read the warm-up samples file ${repo}/m/nothing.json: no such file; version 1 keeps serving`,
    );
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ status: 200, version: '1', y: 2 });
    expect(server.models.status('m').versions[0]).toMatchObject({ state: 'READY', reason: expect.stringMatching(/^reload with changed files or config failed, the earlier load keeps serving: warm-up failed/) });
    // The config that failed is not kept: a restart loads with the one that serves.
    expect((await call(server, 'GET', '/v2/repository/state')).json).toMatchObject({ entries: { explicit: { m: { loaded: true, config: { maxQueueSize: 10 } } } } });
    await server.shutdown();
    const again = await start({ modelControlMode: 'explicit', store: await SqliteStateStore.open(stateFile) });
    expect(states(again, 'm')).toEqual(['1:READY']);
  });

  it('a reload that finds the model file gone, or a config.yaml that does not compile, is 400 MODEL_LOAD_FAILED', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    const server = await start({ modelControlMode: 'explicit', loadModels: ['*'] });
    await writeFile(path.join(repo, 'm', 'config.yaml'), 'instanceCount: 0\n');
    const badConfig = await call(server, 'POST', '/v2/repository/models/m/load');
    expect(badConfig).toMatchObject({ status: 400, json: { reason: 'MODEL_LOAD_FAILED' } });
    expect(badConfig.json.error).toBe(`model 'm' failed to load: config error: ${repo}/m/config.yaml: instanceCount: 0 is not allowed; expected an integer from 1 to 64 (the config in use stays); version 1 keeps serving`);
    await rm(path.join(repo, 'm', 'config.yaml'));
    await rm(path.join(repo, 'm', '1', 'model.onnx'));
    const missing = await call(server, 'POST', '/v2/repository/models/m/load');
    expect(missing).toMatchObject({ status: 400, json: { reason: 'MODEL_LOAD_FAILED' } });
    expect(missing.json.error).toBe(
      `model 'm' failed to load: version 1: reload with changed files or config failed, the earlier load keeps serving: load failed: ${repo}/m/1/model.onnx is missing; a version folder holds its model as model.onnx; version 1 keeps serving`,
    );
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ status: 200, version: '1', y: 2 });
  });

  it('other modes refuse loads and unloads through the API, and say how to allow them', async () => {
    await writeVersion('m', 1, 'add 1');
    const server = await start({ modelControlMode: 'poll' });
    const res = await call(server, 'POST', '/v2/repository/models/m/unload');
    expect(res).toMatchObject({ status: 400, json: { code: 'FAILED_PRECONDITION', reason: 'MODEL_CONTROL_DISABLED' } });
    expect(res.json.error).toBe(
      'cannot unload models through the API: the model control mode is poll (the repository is watched and loads follow its files); start the server with --model-control-mode explicit',
    );
  });
});

describe('signature changes', () => {
  /** An inference whose input is named `input` (the scripted runtime's `add 2 input z` renames it). */
  async function inferNamed(server: SibylServer, url: string, input: string): Promise<Answer> {
    const res = await server.http.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ inputs: [{ name: input, datatype: 'FP32', shape: [1, 1], data: [1] }] }),
    });
    const body = res.json() as Record<string, unknown>;
    return { status: res.statusCode, version: body.model_version as string | undefined, y: (body.outputs as { data: number[] }[] | undefined)?.[0]?.data[0], body };
  }

  async function incompatibleGauge(server: SibylServer, model: string, version: string): Promise<number | undefined> {
    const res = await server.http.inject({ method: 'GET', url: '/metrics' });
    return sampleValue(parsePrometheusText(res.body), 'sibyl_model_signature_incompatible', { model, version });
  }

  const V2_INCOMPATIBLE = "signature incompatible with version 1: input 'x' removed, input 'z' added";

  it('poll mode: an incompatible new version loads but the default traffic stays on the compatible one; a compatible one takes it', async () => {
    await writeVersion('m', 1, 'add 1');
    const server = await start({ modelControlMode: 'poll' });
    expect(await incompatibleGauge(server, 'm', '1')).toBe(0);
    await writeVersion('m', 2, 'add 2 input z');
    await server.models.poll();
    await server.models.whenSettled();

    expect(states(server, 'm')).toEqual(['1:READY', '2:READY']);
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ status: 200, version: '1', y: 2 });
    expect(await inferNamed(server, '/v2/models/m/versions/2/infer', 'z')).toMatchObject({ status: 200, version: '2', y: 3 });
    expect(server.models.index()).toEqual([
      { name: 'm', version: '1', state: 'READY', reason: 'takes the default traffic: version 2 not routed by default (incompatible signature)' },
      {
        name: 'm',
        version: '2',
        state: 'READY',
        reason: `not routed by default: ${V2_INCOMPATIBLE} (requests for version 2 reach it; to route the default traffic to it, set acceptSignature: [2] in its config.yaml or move the stable label to it)`,
      },
    ]);
    expect(server.models.status('m').versions[1]!.incompatibleSignature).toBe(V2_INCOMPATIBLE);
    const view = (await call(server, 'GET', '/v2/repository/models/m')).json;
    expect(view).toMatchObject({ default_version: '1', versions: [{ version: '1', incompatible_signature: null }, { version: '2', incompatible_signature: V2_INCOMPATIBLE }] });
    expect(await incompatibleGauge(server, 'm', '2')).toBe(1);
    expect(await incompatibleGauge(server, 'm', '1')).toBe(0);

    // A version compatible with version 1 takes the default traffic, and version 1 unloads.
    await writeVersion('m', 3, 'add 3');
    await server.models.poll();
    await server.models.whenSettled();
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ status: 200, version: '3', y: 4 });
    expect(states(server, 'm')).toEqual(['1:UNAVAILABLE', '2:UNAVAILABLE', '3:READY']);
  });

  it('the operator opts in by moving the stable label to the new version (through the API), or with acceptSignature in config.yaml', async () => {
    await writeVersion('m', 1, 'add 1');
    await writeVersion('n', 1, 'add 1');
    const server = await start({ modelControlMode: 'poll' });
    await writeVersion('m', 2, 'add 2 input z');
    await writeVersion('n', 2, 'add 2 input z');
    await server.models.poll();
    await server.models.whenSettled();
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '1' });

    expect((await call(server, 'PUT', '/v2/repository/models/m/labels/stable', { version: 2 })).status).toBe(200);
    expect(await inferNamed(server, '/v2/models/m/infer', 'z')).toMatchObject({ status: 200, version: '2', y: 3 });
    expect(server.models.status('m').versions.find((v) => v.version === 2)!.reason).toBe('');
    // The new signature is now the default traffic's: without the label, version 2 keeps it.
    expect((await call(server, 'DELETE', '/v2/repository/models/m/labels/stable')).status).toBe(200);
    await server.models.whenSettled();
    expect(await inferNamed(server, '/v2/models/m/infer', 'z')).toMatchObject({ status: 200, version: '2' });
    expect(states(server, 'm')).toEqual(['1:UNAVAILABLE', '2:READY']);

    await writeFile(path.join(repo, 'n', 'config.yaml'), 'acceptSignature: [2]\n');
    await server.models.poll();
    await server.models.whenSettled();
    expect(await inferNamed(server, '/v2/models/n/infer', 'z')).toMatchObject({ status: 200, version: '2', y: 3 });
    expect(states(server, 'n')).toEqual(['1:UNAVAILABLE', '2:READY']);
    expect(await incompatibleGauge(server, 'n', '2')).toBe(0);
  });

  it('signatureChange: allow keeps the newest version taking the default traffic whatever its signature', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' }, config: 'signatureChange: allow\n' } });
    const server = await start({ modelControlMode: 'poll' });
    await writeVersion('m', 2, 'add 2 input z');
    await server.models.poll();
    await server.models.whenSettled();
    expect(await inferNamed(server, '/v2/models/m/infer', 'z')).toMatchObject({ status: 200, version: '2' });
    expect(states(server, 'm')).toEqual(['1:UNAVAILABLE', '2:READY']);
  });

  it('a restart keeps the default traffic on the compatible version (the signature it is served with is in the state store)', async () => {
    const stateFile = path.join(repo, '.state.sqlite');
    await writeVersion('m', 1, 'add 1');
    const server = await start({ modelControlMode: 'poll', store: await SqliteStateStore.open(stateFile) });
    await writeVersion('m', 2, 'add 2 input z');
    await server.models.poll();
    await server.models.whenSettled();
    await server.shutdown();

    const again = await start({ modelControlMode: 'poll', store: await SqliteStateStore.open(stateFile) });
    await again.models.whenSettled();
    expect(states(again, 'm')).toEqual(['1:READY', '2:READY']);
    expect(await infer(again, '/v2/models/m/infer')).toMatchObject({ status: 200, version: '1', y: 2 });
    expect(again.models.status('m').versions[1]!.incompatibleSignature).toBe(V2_INCOMPATIBLE);
    await again.shutdown();

    // Version 1 is there but cannot load: the incompatible version serves rather than nothing, and says so.
    await writeVersion('m', 1, 'fail corrupt file');
    const third = await start({ modelControlMode: 'poll', store: await SqliteStateStore.open(stateFile) });
    await third.models.whenSettled();
    expect(await inferNamed(third, '/v2/models/m/infer', 'z')).toMatchObject({ status: 200, version: '2' });
    expect(third.models.index()).toEqual([
      { name: 'm', version: '1', state: 'UNAVAILABLE', reason: 'load failed: corrupt file' },
      { name: 'm', version: '2', state: 'READY', reason: `takes the default traffic, as no compatible version can serve (${V2_INCOMPATIBLE})` },
    ]);
  });

  it('the version whose signature was served left the repository: after a restart the new one takes the default traffic', async () => {
    const stateFile = path.join(repo, '.state.sqlite');
    await writeVersion('m', 1, 'add 1');
    const server = await start({ modelControlMode: 'poll', store: await SqliteStateStore.open(stateFile) });
    await writeVersion('m', 2, 'add 2 input z');
    await rm(path.join(repo, 'm', '1'), { recursive: true });
    await server.models.poll();
    await server.models.whenSettled();
    // While it is loaded, version 1 keeps the default traffic, its folder gone or not.
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ status: 200, version: '1' });
    await server.shutdown();

    const again = await start({ modelControlMode: 'poll', store: await SqliteStateStore.open(stateFile) });
    expect(await inferNamed(again, '/v2/models/m/infer', 'z')).toMatchObject({ status: 200, version: '2', y: 3 });
    expect(again.models.index()).toEqual([{ name: 'm', version: '2', state: 'READY', reason: '' }]);
    expect(await incompatibleGauge(again, 'm', '2')).toBe(0);
  });

  it('explicit mode: a load that brings an incompatible version keeps the default traffic where it was', async () => {
    await writeVersion('m', 1, 'add 1');
    const server = await start({ modelControlMode: 'explicit', loadModels: ['*'] });
    await writeVersion('m', 2, 'add 2 input z');
    expect(await call(server, 'POST', '/v2/repository/models/m/load')).toEqual({ status: 200, json: {} });
    await server.models.whenSettled();
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ status: 200, version: '1' });
    expect(await inferNamed(server, '/v2/models/m/versions/2/infer', 'z')).toMatchObject({ status: 200, version: '2' });
  });
});

describe('residency', () => {
  it('keeps at most N versions loaded, evicting the least recently used, and loads on demand', async () => {
    await writeModelRepository(repo, { a: { versions: { 1: 'add 1' } }, b: { versions: { 1: 'add 2' } }, c: { versions: { 1: 'add 3' } } });
    const server = await start({ maxLoadedModels: 2 });
    expect(server.models.index().map((r) => `${r.name}:${r.state}`)).toEqual(['a:READY', 'b:READY', 'c:UNAVAILABLE']);
    expect(server.models.status('c').versions[0]).toMatchObject({ loadsOnDemand: true, reason: 'not loaded yet: the limit of 2 loaded versions reached; loads on the first request' });
    expect((await call(server, 'GET', '/v2/models/c/ready')).json).toEqual({ name: 'c', ready: true });

    await infer(server, '/v2/models/a/infer'); // a is now more recently used than b
    expect(await infer(server, '/v2/models/c/infer')).toMatchObject({ status: 200, y: 4 });
    await server.models.whenSettled();
    expect(server.models.index().map((r) => `${r.name}:${r.state}`)).toEqual(['a:READY', 'b:UNAVAILABLE', 'c:READY']);
    expect(server.models.status('b').versions[0]!.reason).toBe('evicted: least recently used, to make room for c:1 (the limit of 2 loaded versions); loads again on the next request');
    expect(server.models.status('c').versions[0]!.loadMs).toBeGreaterThanOrEqual(0);
    expect(await infer(server, '/v2/models/b/infer')).toMatchObject({ status: 200, y: 3 });
    await server.models.whenSettled(); // the version evicted for b has drained
    expect(runtime.live).toBe(2);
  });

  it('the first request waits for the load within its deadline; past it, 504, and the load goes on', async () => {
    await writeModelRepository(repo, { a: { versions: { 1: 'add 1' } }, b: { versions: { 1: 'add 2' } } });
    const server = await start({ maxLoadedModels: 1 });
    const held = runtime.hold('load', 'b:1');
    const late = await infer(server, '/v2/models/b/infer', 1, { timeout: 20_000 }); // 20 ms
    expect(late).toMatchObject({ status: 504, body: { reason: 'DEADLINE_EXCEEDED' } });
    expect(late.body.error).toMatch(/^model 'b' version 1 was loading on demand and the request's deadline passed after \d+ ms; the load goes on$/);
    held.release();
    await server.models.whenSettled();
    expect(await infer(server, '/v2/models/b/infer')).toMatchObject({ status: 200, y: 3 });
  });

  it('a version larger than the whole memory budget is refused with the numbers', async () => {
    await writeModelRepository(repo, { small: { versions: { 1: 'add 1' } }, big: { versions: { 1: 'add 2' }, config: 'memoryBytes: 5000\n' } });
    const server = await start({ memoryBudgetBytes: 1000 });
    expect(server.models.status('small').versions[0]!.state).toBe('READY');
    const res = await infer(server, '/v2/models/big/infer');
    expect(res).toMatchObject({ status: 503, body: { reason: 'MODEL_NOT_READY' } });
    expect(res.body.error).toContain('it needs 5000 bytes, more than the whole memory budget of 1000 bytes');
  });
});

describe('warm-up and fallback', () => {
  it('runs warm-up on every instance before READY; a failing warm-up makes the version UNAVAILABLE', async () => {
    await writeModelRepository(repo, {
      warm: { versions: { 1: 'add 1' }, config: 'instanceCount: 2\nwarmup: { batchSizes: [1, 4], iterations: 3 }\n' },
      cold: { versions: { 1: 'fail-runs' }, config: 'warmup: {}\n' },
    });
    const server = await start();
    expect(runtime.executionsOf('warm:1#0')).toBe(6);
    expect(runtime.executionsOf('warm:1#1')).toBe(6);
    expect(server.models.status('cold').versions[0]).toMatchObject({ state: 'UNAVAILABLE' });
    expect(server.models.status('cold').versions[0]!.reason).toBe('warm-up failed: generated batch of 1 on instance cold:1#0: instance cold:1#0 fails every execution');
    expect(runtime.liveLabels()).toEqual(['warm:1#0', 'warm:1#1']);
  });

  it('runs the requests of a samples file, and names the sample that does not fit the model', async () => {
    const sample = (x: number): string => JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [x] }] });
    await writeModelRepository(repo, {
      lines: { versions: { 1: 'add 1' }, config: 'warmup: { samplesFile: samples.jsonl }\n' },
      wrong: { versions: { 1: 'add 1' }, config: 'warmup: { samplesFile: samples.json, batchSizes: [2] }\n' },
      absent: { versions: { 1: 'add 1' }, config: 'warmup: { samplesFile: nothing.json }\n' },
    });
    await writeFile(path.join(repo, 'lines', 'samples.jsonl'), `${sample(1)}\n${sample(2)}\n\n${sample(3)}\n`);
    await writeFile(path.join(repo, 'wrong', 'samples.json'), JSON.stringify([JSON.parse(sample(1)), { inputs: [{ name: 'z', datatype: 'FP32', shape: [1], data: [1] }] }]));
    const server = await start();
    expect(runtime.executionsOf('lines:1')).toBe(3);
    expect(server.models.status('lines').versions[0]!.state).toBe('READY');
    expect(server.models.status('wrong').versions[0]!.reason).toBe(
      `warm-up sample 2 of ${repo}/wrong/samples.json: model 'wrong' has no input 'z'; its inputs are 'x' (FP32 [-1, 1])`,
    );
    expect(server.models.status('absent').versions[0]!.reason).toBe(`warm-up failed: cannot read the warm-up samples file ${repo}/absent/nothing.json: no such file`);
  });

  it('names what is wrong with a repository: stray folders, a version without model.onnx', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    await mkdir(path.join(repo, 'm', 'v2'));
    const server = await start({ modelControlMode: 'poll' });
    await mkdir(path.join(repo, 'm', '3'));
    await server.models.poll();
    await server.models.whenSettled();
    expect(server.models.status('m').warnings).toEqual([`${repo}/m: folder 'v2' is not a version: version folders are positive integers (1, 2, 10, …)`]);
    expect(server.models.status('m').versions.map((v) => [v.version, v.state, v.reason])).toEqual([
      [1, 'READY', 'serving as the fallback: the desired version (3) failed to load'],
      [3, 'UNAVAILABLE', `load failed: ${repo}/m/3/model.onnx is missing; a version folder holds its model as model.onnx`],
    ]);
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '1' });
  });

  it('at restart, when every desired version fails, the last known good version serves', async () => {
    const stateFile = path.join(repo, '.state.sqlite');
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    const first = await start({ store: await SqliteStateStore.open(stateFile) });
    await first.shutdown();
    await writeVersion('m', 2, 'fail broken upload');
    const server = await start({ store: await SqliteStateStore.open(stateFile) });
    expect(states(server, 'm')).toEqual(['1:READY', '2:UNAVAILABLE']);
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '1', y: 2 });
  });
});

describe('state snapshot and restore', () => {
  it('exports the state and restores it into a running server, which applies it at once', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' } } });
    const server = await start();
    await call(server, 'PUT', '/v2/repository/models/m/labels/stable', { version: 1 });
    const snapshot = (await call(server, 'GET', '/v2/repository/state')).json;
    expect(snapshot).toMatchObject({ format: 'sibyl-state', formatVersion: 1, entries: { labels: { m: { stable: { version: 1, history: [] } } } } });
    await call(server, 'DELETE', '/v2/repository/models/m/labels/stable');
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '2' });
    expect(await call(server, 'PUT', '/v2/repository/state', snapshot)).toEqual({ status: 200, json: {} });
    expect(await infer(server, '/v2/models/m/infer')).toMatchObject({ version: '1' });
    const bad = await call(server, 'PUT', '/v2/repository/state', { format: 'other' });
    expect(bad).toMatchObject({ status: 400, json: { reason: 'STATE_INVALID' } });
  });
});
