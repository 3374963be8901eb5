// Distributed batch runs against a real Redis: the real `sibyl batch run --distributed`
// coordinator and two real `sibyl worker` processes sharing a SQLite prediction store on this
// machine. One worker is SIGKILLed while it holds a chunk; BullMQ's stalled-chunk detection hands
// the chunk to the other, and the job completes with every row stored exactly once and the same
// outputs as a single-process `sibyl batch run` of the same job. A job whose chunks fail on every
// attempt fails clearly. REDIS_URL overrides redis://127.0.0.1:6379; the test fails, never skips,
// without a Redis. Every test uses its own queue prefix.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresPredictionStore } from '../../src/batch/postgres-prediction-store.ts';
import { SqlitePredictionStore } from '../../src/batch/sqlite-prediction-store.ts';
import { linearClassifierModel, makeTempDir, readJsonLines, removeDir, writeModelRepository } from '../../src/testing/index.ts';
import { LINEAR_4X3 } from '../fixtures.ts';
import { POSTGRES_URL } from './postgres.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BIN = fileURLToPath(new URL('../../bin/sibyl.js', import.meta.url));
const CHUNKS = 12;
const CHUNK_ROWS = 3000;
const ROWS = CHUNKS * CHUNK_ROWS;
const BAD_ROW = 4321;

interface Proc {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  output: () => string;
  exited: Promise<number | null>;
  /** Resolves with the first log line that matches. */
  waitFor(match: (entry: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

const running = new Set<ChildProcess>();

function sibyl(args: readonly string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const logs: Record<string, unknown>[] = [];
  const watchers: { match: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  let output = '';
  readJsonLines(child.stdout!, (text) => (output += text), (entry) => {
    logs.push(entry);
    for (const w of [...watchers]) {
      if (w.match(entry)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(entry);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (running.delete(child), resolve(code))));
  return {
    child,
    logs,
    output: () => output,
    exited,
    waitFor(match, what, timeoutMs = 60_000) {
      const found = logs.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; output:\n${output.slice(-4000)}`)), timeoutMs);
        watchers.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
        void exited.then((code) => reject(new Error(`process exited (${code}) before ${what}; output:\n${output.slice(-4000)}`)));
      });
    },
  };
}

let dir: string;
let admin: Redis;
let prefix: string;

const features = (i: number): number[] => [(i % 97) / 10, 1 - (i % 13) / 7, (i % 7) * 0.5, -(i % 31) / 3];

function jobYaml(name: string, store: string, extra = '', csv = 'data.csv'): string {
  // requestRows 1 and concurrency 1 make a chunk take long enough to kill a worker while it holds one.
  return `name: ${name}\nsource: {csv: ${csv}}\nkey: id\ninputs: {features: {columns: [a, b, c, d]}}\ntarget: {model: linear}\nstore: {${store}}\nchunkRows: ${CHUNK_ROWS}\nrequestRows: 1\nconcurrency: 1\n${extra}`;
}

function workerArgs(models = 'models'): string[] {
  return ['worker', '--redis-url', REDIS_URL, '--queue-prefix', prefix, '--model-repository', path.join(dir, models), '--concurrency', '1', '--lock-duration-ms', '1000', '--stalled-interval-ms', '500', '--poll-interval-ms', '100', '--log-level', 'debug'];
}

const ready = (e: Record<string, unknown>): boolean => typeof e.msg === 'string' && e.msg.startsWith('sibyl worker ready');

beforeAll(async () => {
  admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  try {
    await admin.connect();
    await admin.ping();
  } catch (err) {
    throw new Error(`these tests need Redis at ${REDIS_URL} (set REDIS_URL): ${(err as Error).message}. Start one with: redis-server --daemonize yes --port 6379`, { cause: err });
  }
  dir = await makeTempDir('sibyl-distributed-');
  await writeModelRepository(path.join(dir, 'models'), { linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } } });
  // A repository without the job's model: its workers cannot score the job.
  await writeModelRepository(path.join(dir, 'other-models'), { other: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } } });
  let csv = 'id,a,b,c,d\n';
  // One bad row, rejected with its reason by both runs.
  for (let i = 0; i < ROWS; i++) csv += i === BAD_ROW ? `k${i},oops,1,2,3\n` : `k${i},${features(i).join(',')}\n`;
  await writeFile(path.join(dir, 'data.csv'), csv);
});

afterEach(async () => {
  for (const child of running) child.kill('SIGKILL');
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length > 0) await admin.del(...keys);
});

afterAll(async () => {
  admin?.disconnect();
  if (dir !== undefined) await removeDir(dir);
});

describe('sibyl batch run --distributed with sibyl worker', () => {
  it('completes with every row exactly once when a worker is killed mid-chunk, equal to a single-process run', async () => {
    prefix = `sibyl-test-${randomUUID()}`;
    await writeFile(path.join(dir, 'distributed.yaml'), jobYaml('scores-distributed', 'sqlite: distributed.sqlite'));
    await writeFile(path.join(dir, 'single.yaml'), jobYaml('scores-single', 'sqlite: single.sqlite'));
    const a = sibyl(workerArgs());
    const b = sibyl(workerArgs());
    await Promise.all([a.waitFor(ready, 'worker a ready'), b.waitFor(ready, 'worker b ready')]);

    const coordinator = sibyl(['batch', 'run', path.join(dir, 'distributed.yaml'), '--distributed', '--redis-url', REDIS_URL, '--queue-prefix', prefix, '--model-repository', path.join(dir, 'models'), '--max-queued-chunks', '4', '--log-level', 'info']);
    // Kill worker a once it has committed a chunk and started its next one: it dies holding a chunk.
    await a.waitFor((e) => e.msg === 'chunk committed', 'worker a to commit a chunk');
    const held = await a.waitFor((e) => e.msg === 'chunk started' && a.logs.some((c) => c.msg === 'chunk committed') && a.logs.indexOf(e) > a.logs.findIndex((c) => c.msg === 'chunk committed'), 'worker a to start another chunk');
    a.child.kill('SIGKILL');
    expect(await a.exited).toBe(null);
    const heldChunk = held.chunk as number;

    expect(await coordinator.exited, coordinator.output()).toBe(0);
    expect(coordinator.output()).toMatch(/batch job scores-distributed \(\S+\) SUCCEEDED/);
    // The chunk worker a died with was re-delivered to worker b (BullMQ's stalled check) and committed there.
    const redelivered = b.logs.find((e) => e.msg === 'chunk committed' && e.chunk === heldChunk);
    expect(redelivered, `worker b should commit chunk ${heldChunk}`).toMatchObject({ stalled: 1 });
    expect(a.logs.some((e) => e.msg === 'chunk committed' && e.chunk === heldChunk)).toBe(false);
    // Both workers did part of the job.
    const committedBy = (p: Proc): number[] => p.logs.filter((e) => e.msg === 'chunk committed').map((e) => e.chunk as number);
    expect(committedBy(a).length).toBeGreaterThan(0);
    expect([...committedBy(a), ...committedBy(b)].sort((x, y) => x - y)).toEqual(Array.from({ length: CHUNKS }, (_, i) => i));

    const single = sibyl(['batch', 'run', path.join(dir, 'single.yaml'), '--model-repository', path.join(dir, 'models')]);
    expect(await single.exited, single.output()).toBe(0);

    // Every row exactly once, with the outputs of the single-process run.
    const db = new Database(path.join(dir, 'distributed.sqlite'), { readonly: true });
    const counts = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT key) AS keys FROM predictions').get() as { n: number; keys: number };
    db.close();
    expect(counts).toEqual({ n: ROWS - 1, keys: ROWS - 1 });
    const rejects = (await readFile(path.join(dir, 'scores-distributed.rejects.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { key: string; reason: string; rowNumber: number; row: unknown });
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({ key: `k${BAD_ROW}`, reason: expect.stringContaining("column 'a'") });
    const singleRejects = (await readFile(path.join(dir, 'scores-single.rejects.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { key: string; reason: string; rowNumber: number; row: unknown });
    expect(singleRejects.map((r) => [r.key, r.reason, r.rowNumber, r.row])).toEqual(rejects.map((r) => [r.key, r.reason, r.rowNumber, r.row]));
    const distributed = await SqlitePredictionStore.open(path.join(dir, 'distributed.sqlite'));
    const reference = await SqlitePredictionStore.open(path.join(dir, 'single.sqlite'));
    try {
      const [job] = await distributed.listJobs({ name: 'scores-distributed' });
      expect(job).toMatchObject({ status: 'succeeded', origin: 'distributed', rowsRead: ROWS, rowsWritten: ROWS - 1, rowsRejected: 1, chunksCommitted: CHUNKS, chunksTotal: CHUNKS });
      expect((await distributed.committedChunks(job!.id)).size).toBe(CHUNKS);
      const keys = Array.from({ length: ROWS }, (_, i) => `k${i}`);
      const got = await distributed.lookup('linear', keys);
      const want = await reference.lookup('linear', keys);
      expect(got.size).toBe(ROWS - 1);
      expect(want.size).toBe(ROWS - 1);
      let differing = 0;
      for (const key of keys) {
        if (key === `k${BAD_ROW}`) continue;
        const g = got.get(key)!;
        const w = want.get(key)!;
        if (g.version !== w.version || JSON.stringify(g.outputs) !== JSON.stringify(w.outputs)) differing++;
      }
      expect(differing).toBe(0);
    } finally {
      await distributed.close();
      await reference.close();
    }
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 180_000);

  it('fails the job clearly when a chunk fails on every attempt', async () => {
    prefix = `sibyl-test-${randomUUID()}`;
    await writeFile(path.join(dir, 'broken.yaml'), jobYaml('broken', 'sqlite: broken.sqlite'));
    // The coordinator checks the target before queueing anything.
    const early = sibyl(['batch', 'run', path.join(dir, 'broken.yaml'), '--distributed', '--redis-url', REDIS_URL, '--queue-prefix', prefix, '--model-repository', path.join(dir, 'other-models')]);
    expect(await early.exited, early.output()).toBe(1);
    expect(early.output()).toMatch(/linear/);
    expect(await admin.hlen(`${prefix}:sibyl-batch:jobs`)).toBe(0);

    // A worker without the job's model fails each chunk it takes.
    const worker = sibyl(workerArgs('other-models'));
    await worker.waitFor(ready, 'worker ready');
    const coordinator = sibyl(['batch', 'run', path.join(dir, 'broken.yaml'), '--distributed', '--redis-url', REDIS_URL, '--queue-prefix', prefix, '--model-repository', path.join(dir, 'models'), '--attempts', '2', '--log-level', 'info']);
    expect(await coordinator.exited, coordinator.output()).toBe(1);
    expect(coordinator.output()).toMatch(/batch job broken \(\S+\) FAILED/);
    expect(coordinator.output()).toMatch(/error\s+chunk \d+ \(source rows from \d+\) of job \S+ failed on every attempt: .*linear/);
    const store = await SqlitePredictionStore.open(path.join(dir, 'broken.sqlite'));
    const [job] = await store.listJobs({ name: 'broken' });
    await store.close();
    expect(job).toMatchObject({ status: 'failed', rowsWritten: 0 });
    expect(job!.error).toMatch(/failed on every attempt/);
    // The job left the registry and its queue is gone: the worker stops working on it.
    await worker.waitFor((e) => e.msg === 'distributed job ended', 'the worker to leave the job');
    expect(await admin.hlen(`${prefix}:sibyl-batch:jobs`)).toBe(0);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 120_000);

  it('resumes after the coordinator is killed, with PostgreSQL as the shared store: committed chunks are skipped, every row once', async () => {
    prefix = `sibyl-test-${randomUUID()}`;
    const run = randomUUID().slice(0, 8);
    let csv = 'id,a,b,c,d\n';
    for (let i = 0; i < ROWS; i++) csv += `${run}-${i},${features(i).join(',')}\n`;
    await writeFile(path.join(dir, `pg-${run}.csv`), csv);
    const name = `pg-${run}`;
    await writeFile(path.join(dir, 'pg.yaml'), jobYaml(name, `postgres: "${POSTGRES_URL}"`, '', `pg-${run}.csv`));
    let store: PostgresPredictionStore;
    try {
      store = await PostgresPredictionStore.open({ url: POSTGRES_URL });
    } catch (err) {
      throw new Error(`this test needs PostgreSQL at ${POSTGRES_URL} (set SIBYL_TEST_POSTGRES_URL): ${(err as Error).message}`, { cause: err });
    }
    try {
      const workers = [sibyl(workerArgs()), sibyl(workerArgs())];
      await Promise.all(workers.map((w, i) => w.waitFor(ready, `worker ${i} ready`)));
      const runArgs = ['batch', 'run', path.join(dir, 'pg.yaml'), '--distributed', '--redis-url', REDIS_URL, '--queue-prefix', prefix, '--model-repository', path.join(dir, 'models'), '--max-queued-chunks', '2'];
      const first = sibyl(runArgs);
      const job = await (async () => {
        for (;;) {
          const [j] = await store.listJobs({ name });
          if (j !== undefined && j.chunksCommitted >= 2) return j;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      first.child.kill('SIGKILL');
      await first.exited;
      const committedBefore = (await store.committedChunks(job.id)).size;
      expect(committedBefore).toBeLessThan(CHUNKS);

      const second = sibyl([...runArgs, '--resume', job.id]);
      expect(await second.exited, second.output()).toBe(0);
      expect(second.output()).toMatch(new RegExp(`batch job ${name} \\(${job.id}\\) SUCCEEDED`));
      expect(second.output()).toMatch(/\((\d+) by an earlier run, skipped\)/);
      const skipped = Number(/\((\d+) by an earlier run, skipped\)/.exec(second.output())![1]);
      expect(skipped).toBeGreaterThanOrEqual(committedBefore);
      const [final] = await store.listJobs({ name });
      expect(final).toMatchObject({ id: job.id, status: 'succeeded', chunksCommitted: CHUNKS, chunksTotal: CHUNKS });
      expect((await store.committedChunks(job.id)).size).toBe(CHUNKS);
      const stored = await store.lookup('linear', Array.from({ length: ROWS }, (_, i) => `${run}-${i}`));
      expect(stored.size).toBe(ROWS);
      expect(new Set([...stored.values()].map((p) => p.jobId))).toEqual(new Set([job.id]));
      for (const w of workers) w.child.kill('SIGTERM');
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
    } finally {
      await store.close();
    }
  }, 180_000);
});
