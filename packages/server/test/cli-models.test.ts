// `sibyl models …`, `sibyl snapshot` and `sibyl restore` against a server listening on a real
// port (in process, scripted runtime), with their output captured.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerModelsCommand } from '../src/cli/models-command.ts';
import { registerStateCommands } from '../src/cli/state-command.ts';
import { cliRunner } from './cli-harness.ts';
import type { SibylServer } from '../src/server.ts';
import { SqliteStateStore } from '../src/state/sqlite-state-store.ts';
import { ScriptedRuntime, createTestServer, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

let repo: string;
let server: SibylServer;
let url: string;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-cli-models-');
  await writeModelRepository(repo, { iris: { versions: { 1: 'add 1', 2: 'add 2' } }, churn: { versions: { 1: 'add 5' } } });
  server = await createTestServer(repo, { runtime: new ScriptedRuntime(), modelControlMode: 'explicit', loadModels: ['iris'], host: '127.0.0.1' });
  await server.http.listen({ host: '127.0.0.1', port: 0 });
  url = server.url;
});

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

/** Runs `sibyl <args>`; returns the exit code and what it printed. */
const sibyl = cliRunner(() => url, registerModelsCommand, registerStateCommands);

describe('sibyl models', () => {
  it('lists every version with state, labels and the default route', async () => {
    const { code, out } = await sibyl('models', 'list');
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MODEL\s+VERSION\s+STATE\s+LABELS\s+LOAD_MS\s+REASON$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(['churn 1 UNAVAILABLE', 'iris 1 UNAVAILABLE', 'iris 2* READY']);
  });

  it('loads, labels, rolls back and unloads, printing what changed', async () => {
    expect(await sibyl('models', 'load', 'churn')).toMatchObject({ code: 0, out: expect.stringMatching(/^MODEL.*\nchurn\s+1\*\s+READY/) });
    expect(await sibyl('models', 'label', 'iris', 'stable', '1')).toEqual({ code: 0, out: 'iris: stable → 1\n', err: '' });
    expect(await sibyl('models', 'label', 'iris', 'stable', '2')).toEqual({ code: 0, out: 'iris: stable → 2 (was 1)\n', err: '' });
    expect(await sibyl('models', 'label', 'iris', 'stable')).toEqual({ code: 0, out: 'iris: stable → 2 (api)\n', err: '' });
    expect(await sibyl('models', 'rollback', 'iris')).toEqual({ code: 0, out: 'iris: stable → 1 (rolled back from 2)\n', err: '' });
    const show = await sibyl('models', 'show', 'iris');
    expect(show.out).toContain('labels:\n  stable → 1 (api)');
    expect(await sibyl('models', 'unload', 'churn')).toEqual({ code: 0, out: 'churn: unloaded\n', err: '' });
    expect(server.models.status('churn').versions[0]!.state).toBe('UNAVAILABLE');
  });

  it('reports the server\'s refusal with its reason, exit code 1', async () => {
    expect(await sibyl('models', 'rollback', 'churn')).toEqual({
      code: 1,
      out: '',
      err: "sibyl: model 'churn' has no label 'stable'; a rollback returns a label to the version it pointed at before its last move through the API (sibyl models label churn stable <version> moves it) (ROLLBACK_UNAVAILABLE)\n",
    });
    expect(await sibyl('models', 'load', 'nope')).toMatchObject({ code: 1, err: expect.stringContaining("model 'nope' is not in the repository; list its models with POST /v2/repository/index (MODEL_NOT_FOUND)") });
  });

  it('says when the server cannot be reached', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve)); // nothing listens there now
    const { code, err } = await sibyl('models', 'list', '--url', `http://127.0.0.1:${port}`);
    expect(code).toBe(1);
    expect(err).toBe(`sibyl: cannot reach the server at http://127.0.0.1:${port}: ECONNREFUSED; is 'sibyl serve' running there? (set --url or SIBYL_URL)\n`);
  });
});

describe('sibyl snapshot and restore', () => {
  it('exports through the server and restores into it; reads and writes a state file directly', async () => {
    await sibyl('models', 'label', 'iris', 'canary', '2');
    const file = path.join(repo, 'snapshot.json');
    expect(await sibyl('snapshot', '--output', file)).toMatchObject({ code: 0, out: expect.stringMatching(/^wrote \d+ entries to /) });
    const snapshot = JSON.parse(await readFile(file, 'utf8')) as { entries: { labels: Record<string, unknown> } };
    expect(snapshot.entries.labels.iris).toEqual({ stable: { version: 1, history: [] }, canary: { version: 2, history: [] } });

    await sibyl('models', 'label', 'iris', 'canary', '--delete');
    expect(server.models.status('iris').labels.has('canary')).toBe(false);
    expect(await sibyl('restore', file)).toMatchObject({ code: 0, out: expect.stringMatching(/^restored \d+ entries from /) });
    expect(server.models.status('iris').labels.get('canary')).toMatchObject({ version: 2, source: 'api' });

    const stateFile = path.join(repo, 'offline.sqlite');
    expect((await sibyl('restore', file, '--state-store', stateFile)).code).toBe(0);
    const store = await SqliteStateStore.open(stateFile);
    expect(await store.get('labels', 'iris')).toEqual({ stable: { version: 1, history: [] }, canary: { version: 2, history: [] } });
    await store.close();
    const offline = await sibyl('snapshot', '--state-store', stateFile);
    expect(JSON.parse(offline.out)).toMatchObject({ format: 'sibyl-state', entries: { labels: { iris: { canary: { version: 2 } } } } });
  });

  it('refuses a file that is not a snapshot', async () => {
    const bad = path.join(repo, 'package.json');
    await writeFile(bad, '{"name": "not a snapshot"}');
    expect(await sibyl('restore', bad)).toMatchObject({ code: 1, err: `sibyl: ${bad}: format is undefined, not "sibyl-state"; expected a snapshot made by 'sibyl snapshot' ({"format":"sibyl-state","formatVersion":1,"entries":{…}})\n` });
  });
});
