// Model lifecycle end to end: the real `sibyl serve` binary, real onnxruntime workers, a real
// SQLite state store, clients over TCP. Each version of a model is a linear classifier whose
// bias is its version number, so every answer shows which version computed it.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { linearClassifierExpected, linearClassifierModel, makeTempDir, removeDir, spawnSibyl, writeModelRepository, type SpawnedServer } from '../../src/testing/index.ts';

const WEIGHTS = [
  [1, 0],
  [0, 1],
];
const biasOf = (v: number): number[] => [v, -v];
const modelBytes = (v: number): Uint8Array => linearClassifierModel({ weights: WEIGHTS, bias: biasOf(v) }).bytes;

let repo: string;
let state: string;
const running: SpawnedServer[] = [];

beforeEach(async () => {
  repo = await makeTempDir('sibyl-e2e-lifecycle-');
  state = path.join(repo, '.state', 'state.sqlite');
});

afterEach(async () => {
  for (const server of running.splice(0)) expect(await server.stop()).toBe(0);
  await removeDir(repo);
});

async function serve(args: string[]): Promise<SpawnedServer> {
  const server = await spawnSibyl(['--model-repository', repo, '--state-store', state, ...args], { timeoutMs: 120_000 });
  running.push(server);
  return server;
}

/** Adds a version the way a deploy tool should: written under a hidden name, then renamed. */
async function addVersion(model: string, version: number): Promise<void> {
  const hidden = path.join(repo, model, `.incoming-${version}`);
  await mkdir(hidden, { recursive: true });
  await writeFile(path.join(hidden, 'model.onnx'), modelBytes(version));
  await rename(hidden, path.join(repo, model, String(version)));
}

interface Answer {
  status: number;
  version?: string;
  logits?: number[];
  error?: string;
}

async function infer(url: string, model: string, x = [0, 0], pathSuffix = ''): Promise<Answer> {
  const res = await fetch(`${url}/v2/models/${model}${pathSuffix}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: x }], outputs: [{ name: 'logits' }] }),
  });
  const body = (await res.json()) as { model_version?: string; outputs?: { data: number[] }[]; error?: string };
  return { status: res.status, version: body.model_version, logits: body.outputs?.[0]?.data, error: body.error };
}

async function api(url: string, method: string, route: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${route}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/**
 * Keeps `clients` request loops running against a model until stopped; records every answer
 * that is not a 200 from a version with the right numbers, and the time each version was first
 * seen.
 */
function keepLoad(url: string, model: string, clients: number): { stop: () => Promise<{ ok: number; failures: string[]; firstSeen: Map<string, number> }> } {
  let stopping = false;
  let ok = 0;
  const failures: string[] = [];
  const firstSeen = new Map<string, number>();
  const loops = Array.from({ length: clients }, async (_, c) => {
    while (!stopping) {
      const x = [c + 1, 2 * c];
      const a = await infer(url, model, x).catch((err: unknown) => ({ status: 0, error: String(err) }) as Answer);
      const v = Number(a.version);
      const expected = linearClassifierExpected(WEIGHTS, biasOf(v), [x]).logits[0]!;
      if (a.status !== 200 || a.logits === undefined || a.logits.some((y, i) => Math.abs(y - expected[i]!) > 1e-4)) {
        failures.push(`${a.status} v${a.version}: ${a.error ?? JSON.stringify(a.logits)}`);
      } else {
        ok++;
        if (!firstSeen.has(a.version!)) firstSeen.set(a.version!, performance.now());
      }
    }
  });
  return {
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
      return { ok, failures, firstSeen };
    },
  };
}

async function loadMsOf(url: string, model: string, version: number): Promise<number> {
  const view = (await api(url, 'GET', `/v2/repository/models/${model}`)).json as { versions: { version: string; load_ms: number | null }[] };
  return view.versions.find((v) => v.version === String(version))?.load_ms ?? Number.NaN;
}

const SWAPS = 10;
// Slack for two busy cores: the load generator, the server and its workers share them.
const SCHEDULING_SLACK_MS = 5000;

describe('hot swap under load', () => {
  it(`poll mode: ${SWAPS} swaps (new version added, old removed), zero failed requests`, async () => {
    const pollMs = 200;
    await writeModelRepository(repo, { m: { versions: { 1: modelBytes(1) } } });
    const server = await serve(['--model-control-mode', 'poll', '--repository-poll-interval-ms', String(pollMs)]);
    const load = keepLoad(server.url, 'm', 6);
    const lags: number[] = [];
    for (let v = 2; v <= SWAPS + 1; v++) {
      const deployedAt = performance.now();
      await addVersion('m', v);
      await rm(path.join(repo, 'm', String(v - 1)), { recursive: true });
      // Wait until the new version answers; then every answer must come from it.
      let first: Answer;
      for (;;) {
        first = await infer(server.url, 'm');
        if (first.version === String(v)) break;
        expect(first.status, first.error).toBe(200);
        await new Promise((r) => setTimeout(r, 10));
      }
      const lag = performance.now() - deployedAt;
      const loadMs = await loadMsOf(server.url, 'm', v);
      lags.push(Math.round(lag));
      expect(lag).toBeLessThan(pollMs + loadMs + SCHEDULING_SLACK_MS);
      for (let i = 0; i < 5; i++) expect((await infer(server.url, 'm')).version).toBe(String(v));
    }
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(SWAPS * 10);
    expect([...result.firstSeen.keys()].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: SWAPS + 1 }, (_, i) => String(i + 1)));
    // The last removed folder leaves the index at the next poll that sees it gone.
    await vi.waitFor(
      async () => expect((await api(server.url, 'POST', '/v2/repository/index')).json).toEqual([{ name: 'm', version: String(SWAPS + 1), state: 'READY', reason: '' }]),
      { timeout: 10 * pollMs, interval: pollMs / 4 },
    );
    console.log(`poll-mode swap lags (ms from deploy to first answer of the new version): ${lags.join(', ')}`);
  }, 180_000);

  it(`explicit mode: ${SWAPS} swaps through the API, zero failed requests`, async () => {
    await writeModelRepository(repo, { m: { versions: { 1: modelBytes(1) } } });
    const server = await serve(['--model-control-mode', 'explicit', '--load-model', 'm']);
    const load = keepLoad(server.url, 'm', 6);
    for (let v = 2; v <= SWAPS + 1; v++) {
      await addVersion('m', v);
      await rm(path.join(repo, 'm', String(v - 1)), { recursive: true });
      expect(await api(server.url, 'POST', '/v2/repository/models/m/load')).toEqual({ status: 200, json: {} });
      // The load returns once the new version is READY: the very next request is answered by it.
      expect((await infer(server.url, 'm')).version).toBe(String(v));
    }
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.firstSeen.size).toBe(SWAPS + 1);
  }, 180_000);
});

describe('residency', () => {
  it('200 models in one process with at most 20 loaded all answer correctly', async () => {
    const MODELS = 200;
    const models: Record<string, { versions: Record<number, Uint8Array> }> = {};
    for (let i = 0; i < MODELS; i++) models[`m${String(i).padStart(3, '0')}`] = { versions: { 1: modelBytes(i) } };
    await writeModelRepository(repo, models);
    const server = await serve(['--max-loaded-models', '20']);
    const names = Object.keys(models);
    // A shuffled order, four clients at a time.
    const order = names.map((n, i) => ({ n, k: (i * 7919) % MODELS })).sort((a, b) => a.k - b.k).map((e) => e.n);
    const wrong: string[] = [];
    let next = 0;
    let maxReady = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < order.length) {
          const name = order[next++]!;
          const i = Number(name.slice(1));
          const x = [1, 2];
          const a = await infer(server.url, name, x);
          const expected = linearClassifierExpected(WEIGHTS, biasOf(i), [x]).logits[0]!;
          if (a.status !== 200 || a.logits === undefined || a.logits.some((y, k) => Math.abs(y - expected[k]!) > 1e-4)) wrong.push(`${name}: ${a.status} ${a.error ?? JSON.stringify(a.logits)}`);
          const index = (await api(server.url, 'POST', '/v2/repository/index', { ready: true })).json as unknown as unknown[];
          maxReady = Math.max(maxReady, index.length);
        }
      }),
    );
    expect(wrong).toEqual([]);
    expect(maxReady).toBeLessThanOrEqual(20);
    expect(maxReady).toBeGreaterThanOrEqual(19);
    const view = (await api(server.url, 'GET', '/v2/repository/models')).json as { models: { versions: { state: string; load_ms: number | null }[] }[] };
    expect(view.models.every((m) => m.versions[0]!.load_ms !== null)).toBe(true); // every one was loaded, and its load time measured
  }, 300_000);
});

describe('state across restarts', () => {
  it('a restart keeps labels and explicit loads', async () => {
    await writeModelRepository(repo, { a: { versions: { 1: modelBytes(1), 2: modelBytes(2) } }, b: { versions: { 1: modelBytes(5) } } });
    const first = await serve(['--model-control-mode', 'explicit']);
    expect((await api(first.url, 'POST', '/v2/repository/models/a/load')).status).toBe(200);
    expect((await api(first.url, 'PUT', '/v2/repository/models/a/labels/stable', { version: 1 })).status).toBe(200);
    expect((await api(first.url, 'PUT', '/v2/repository/models/a/labels/canary', { version: 2 })).status).toBe(200);
    expect((await infer(first.url, 'a')).version).toBe('1');
    expect((await infer(first.url, 'b')).status).toBe(503);
    expect(await first.stop()).toBe(0);
    running.splice(running.indexOf(first), 1);

    const second = await serve(['--model-control-mode', 'explicit']);
    expect(await infer(second.url, 'a')).toMatchObject({ status: 200, version: '1' });
    expect(await infer(second.url, 'a', [0, 0], '/labels/canary')).toMatchObject({ status: 200, version: '2' });
    expect((await infer(second.url, 'b')).status).toBe(503);
    const labels = (await api(second.url, 'GET', '/v2/repository/models/a/labels')).json;
    expect(labels).toEqual({ name: 'a', labels: { canary: { version: '2', source: 'api', history: [] }, stable: { version: '1', source: 'api', history: [] } } });
  }, 120_000);
});
