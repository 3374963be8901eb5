// runBatchJob with real parts: the example tabular_mlp model in ONNX worker threads (through the
// CLI's in-process router), real CSV files and a real SQLite prediction store.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_REPOSITORY } from '../src/cli/main.ts';
import { openLocalScoring, type LocalScoring } from '../src/cli/batch-scoring.ts';
import { compileBatchJob } from '../src/config/batch-job-config.ts';
import { ConfigError } from '../src/config/validate.ts';
import { createSystemClock } from '../src/core/clock.ts';
import { makeTempDir, removeDir } from '../src/testing/index.ts';
import { runBatchJob, type BatchProgress } from '../src/batch/batch-runner.ts';
import { SqlitePredictionStore } from '../src/batch/sqlite-prediction-store.ts';
import { SqliteCommitThread } from '../src/batch/sqlite-commit-thread.ts';
import { openSource } from '../src/batch/sources/open-source.ts';

const FEATURES = Array.from({ length: 32 }, (_, i) => `f${i}`);
const clock = createSystemClock();
let dir: string;
let scoring: LocalScoring;

function writeCsv(file: string, rows: number, bad: Record<number, (values: string[]) => void> = {}): void {
  let s = `id,${FEATURES.join(',')}\n`;
  for (let r = 0; r < rows; r++) {
    const values = FEATURES.map((_, j) => (((r * 31 + j * 7) % 200) / 25 - 4).toFixed(4));
    bad[r]?.(values);
    s += `c${r},${values.join(',')}\n`;
  }
  writeFileSync(file, s);
}

function job(extra: Record<string, unknown> = {}) {
  return compileBatchJob({ name: 'scores', source: { csv: 'rows.csv' }, key: 'id', inputs: { input: { columns: FEATURES } }, target: { model: 'tabular_mlp' }, store: { sqlite: 'p.sqlite' }, chunkRows: 40, ...extra }, path.join(dir, 'job.yaml'));
}

beforeAll(async () => {
  dir = await makeTempDir('sibyl-batch-runner-');
  scoring = await openLocalScoring({ modelRepository: EXAMPLE_REPOSITORY, endpoints: new Map(), target: { kind: 'model', model: 'tabular_mlp' }, clock, log: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await scoring.close();
  await removeDir(dir);
});

describe('compileBatchJob', () => {
  it('resolves paths against the job file and fills defaults', () => {
    const j = job({ chunkRows: undefined });
    expect(j.source).toEqual({ kind: 'csv', path: path.join(dir, 'rows.csv') });
    expect(j.store).toEqual({ kind: 'sqlite', path: path.join(dir, 'p.sqlite') });
    expect(j.rejectsPath).toBe(path.join(dir, 'scores.rejects.jsonl'));
    expect(j.chunkRows).toBe(10_000);
    expect(j.key).toEqual(['id']);
    expect(compileBatchJob(j.document, 'elsewhere.yaml', '/').source).toEqual(j.source);
  });

  it('names the file, the field and what is allowed', () => {
    const compile = (doc: unknown) => () => compileBatchJob(doc, 'job.yaml');
    expect(compile({ name: 'x', source: { csv: 'a', jsonl: 'b' }, key: 'id', inputs: { i: { column: 'c' } }, target: { model: 'm' } })).toThrow(/job.yaml: source: sets csv and jsonl; expected exactly one of csv, jsonl, parquet or sql/);
    expect(compile({ name: 'x', source: { csv: 'a' }, key: 'id', inputs: { i: { column: 'c' } }, target: { model: 'm', endpoint: 'e' } })).toThrow(/target: expected exactly one of model/);
    expect(compile({ name: 'x', source: { csv: 'a' }, key: 'id', inputs: {}, target: { model: 'm' }, chunk: 3 })).toThrow(ConfigError);
    expect(compile({ name: 'x', source: { csv: 'a' }, key: 'id', inputs: {}, target: { model: 'm' }, chunk: 3 })).toThrow(/chunk: unknown field; allowed fields here: name, source, key/);
  });

  it('compiles the source limits and timeouts, and refuses them where they do not apply or out of range (issue 13)', () => {
    const base = { name: 'x', key: 'id', inputs: { i: { column: 'c' } }, target: { model: 'm' } };
    const pg = compileBatchJob({ ...base, source: { sql: { postgres: 'postgres://h/db', query: 'SELECT 1', connectTimeoutMs: 500, queryTimeoutMs: 9000 } }, maxRecordBytes: 4096, maxRowGroupBytes: 1 << 20 }, 'job.yaml');
    expect(pg.source).toEqual({ kind: 'postgres', url: 'postgres://h/db', query: 'SELECT 1', connectTimeoutMs: 500, queryTimeoutMs: 9000 });
    expect([pg.maxRecordBytes, pg.maxRowGroupBytes]).toEqual([4096, 1 << 20]);
    const plain = job();
    expect([plain.maxRecordBytes, plain.maxRowGroupBytes]).toEqual([undefined, undefined]); // the sources' defaults
    expect(compileBatchJob({ ...base, source: { csv: 'a.csv' } }, '/jobs/job.yaml', '/jobs', '/state/rejects').rejectsPath).toBe('/state/rejects/x.rejects.jsonl');
    expect(compileBatchJob({ ...base, source: { csv: 'a.csv' }, rejects: 'r.jsonl' }, '/jobs/job.yaml', '/jobs', '/state/rejects').rejectsPath).toBe('/jobs/r.jsonl');
    const compile = (doc: unknown) => () => compileBatchJob(doc, 'job.yaml');
    expect(compile({ ...base, source: { sql: { sqlite: 'a.db', query: 'SELECT 1', connectTimeoutMs: 5 } } })).toThrow(/source.sql: sets connectTimeoutMs or queryTimeoutMs, which apply to a postgres source only/);
    expect(compile({ ...base, source: { csv: 'a' }, maxRecordBytes: 10 })).toThrow(/maxRecordBytes/);
    expect(compile({ ...base, source: { csv: 'a' }, maxRecordBytes: 2 ** 31 })).toThrow(/maxRecordBytes/);
  });
});

/** Runs `j` and cancels it (its signal aborted) once 3 chunks are committed. */
const runCancelledAfterThreeChunks = (j: ReturnType<typeof job>, store: SqlitePredictionStore) => {
  const controller = new AbortController();
  return runBatchJob(j, { store, scorer: scoring.scorer, clock }, {
    origin: 'test',
    signal: controller.signal,
    onProgress: (p) => {
      if (p.chunksCommitted >= 3) controller.abort();
    },
  });
};

describe('runBatchJob', () => {
  it('scores every row, rejects bad rows with the column and row, and replaces predictions when run again', async () => {
    writeCsv(path.join(dir, 'rows.csv'), 100, { 7: (v) => (v[3] = 'abc'), 50: (v) => (v[0] = '') });
    const store = await SqlitePredictionStore.open(path.join(dir, 'p.sqlite'));
    try {
      const progress: BatchProgress[] = [];
      const first = await runBatchJob(job(), { store, scorer: scoring.scorer, clock }, { origin: 'test', onProgress: (p) => progress.push(p) });
      expect(first).toMatchObject({ status: 'succeeded', rowsRead: 100, rowsWritten: 98, rowsRejected: 2, chunksCommitted: 3, chunksTotal: 3 });
      expect(progress.at(-1)).toMatchObject({ rowsRead: 100, rowsThisRun: 100 });
      const rejects = readFileSync(path.join(dir, 'scores.rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { rowNumber: number; key: string; reason: string; jobId: string });
      // Chunks finish in any order (two are in flight): sort by row.
      expect(rejects.sort((a, b) => a.rowNumber - b.rowNumber).map((r) => [r.rowNumber, r.key, r.reason])).toEqual([
        [9, 'c7', `row 9: column 'f3' is "abc"; input 'input' (FP32) expects a number`],
        [52, 'c50', "row 52: column 'f0' is empty"],
      ]);
      expect(rejects[0]!.jobId).toBe(first.id);
      const stored = await store.lookup('tabular_mlp', ['c0', 'c7', 'c99']);
      expect([...stored.keys()].sort()).toEqual(['c0', 'c99']);
      const c0 = stored.get('c0')!;
      expect(c0).toMatchObject({ version: '1', jobId: first.id });
      expect(c0.outputs).toHaveLength(1);
      expect(c0.outputs[0]).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [2] });
      expect((c0.outputs[0]!.data as number[]).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);

      // Run again: a new job (the first succeeded), the same rows replaced, never duplicated.
      const second = await runBatchJob(job(), { store, scorer: scoring.scorer, clock }, { origin: 'test' });
      expect(second.id).not.toBe(first.id);
      expect(second.createdAtMs).toBeGreaterThanOrEqual(first.createdAtMs);
      expect(second).toMatchObject({ status: 'succeeded', rowsWritten: 98 });
      const again = await store.lookup('tabular_mlp', Array.from({ length: 100 }, (_, i) => `c${i}`));
      expect(again.size).toBe(98);
      expect([...again.values()].every((p) => p.jobId === second.id)).toBe(true);
      expect(again.get('c0')!.outputs).toEqual(c0.outputs);
      expect((await store.listJobs({ name: 'scores' })).map((j) => j.id)).toEqual([second.id, first.id]);
    } finally {
      await store.close();
    }
  });

  it('stops when cancelled, and a run of the same job resumes it, skipping its committed chunks', async () => {
    writeCsv(path.join(dir, 'rows.csv'), 400);
    const store = await SqlitePredictionStore.open(path.join(dir, 'resume.sqlite'));
    try {
      const j = job({ store: { sqlite: 'resume.sqlite' }, name: 'resumable' });
      const cancelled = await runCancelledAfterThreeChunks(j, store);
      expect(cancelled.status).toBe('cancelled');
      const committedBefore = await store.committedChunks(cancelled.id);
      expect(committedBefore.size).toBeGreaterThanOrEqual(3);
      expect(committedBefore.size).toBeLessThan(10);
      // A cancelled job is not resumed by default; --resume names it.
      const resumed = await runBatchJob(j, { store, scorer: scoring.scorer, clock }, { origin: 'test', jobId: cancelled.id, onProgress: () => undefined });
      expect(resumed).toMatchObject({ id: cancelled.id, status: 'succeeded', chunksCommitted: 10, chunksTotal: 10 });
      expect(resumed.rowsRead).toBe(400);
      const all = await store.lookup('tabular_mlp', Array.from({ length: 400 }, (_, i) => `c${i}`));
      expect(all.size).toBe(400);
      await expect(runBatchJob(job({ name: 'other' }), { store, scorer: scoring.scorer, clock }, { origin: 'test', jobId: cancelled.id })).rejects.toThrow(/is job 'resumable', not 'other'/);
      await expect(runBatchJob(j, { store, scorer: scoring.scorer, clock }, { origin: 'test', jobId: 'nope' })).rejects.toThrow(/no batch job 'nope'/);
    } finally {
      await store.close();
    }
  });

  it('writes a chunk\'s rejects before the chunk commits, so a failed commit loses none of them', async () => {
    writeCsv(path.join(dir, 'rows.csv'), 30, { 4: (v) => (v[2] = 'nan?') });
    const store = await SqlitePredictionStore.open(path.join(dir, 'failing.sqlite'));
    const rejectsFile = path.join(dir, 'failing.rejects.jsonl');
    const seenAtCommit: string[] = [];
    // The store dies at the commit (as a process killed there would): what is in the reject file by then stays.
    const failing = Object.assign(Object.create(store) as SqlitePredictionStore, {
      commitChunk: async () => {
        seenAtCommit.push(readFileSync(rejectsFile, 'utf8'));
        throw new Error('disk gone');
      },
    });
    try {
      const record = await runBatchJob(job({ name: 'failing', rejects: 'failing.rejects.jsonl' }), { store: failing, scorer: scoring.scorer, clock }, { origin: 'test' });
      expect(record).toMatchObject({ status: 'failed', error: 'disk gone', chunksCommitted: 0 });
      expect(seenAtCommit).toHaveLength(1);
      const lines = seenAtCommit[0]!.trim().split('\n').map((l) => JSON.parse(l) as { rowNumber: number; key: string; jobId: string });
      expect(lines.map((l) => [l.rowNumber, l.key, l.jobId])).toEqual([[6, 'c4', record.id]]);
    } finally {
      await store.close();
    }
  });

  it('commits from a worker thread exactly what commitChunk would', async () => {
    writeCsv(path.join(dir, 'rows.csv'), 130, { 3: (v) => (v[1] = 'x') });
    const direct = await SqlitePredictionStore.open(path.join(dir, 'direct.sqlite'));
    const threaded = await SqlitePredictionStore.open(path.join(dir, 'threaded.sqlite'));
    const thread = await SqliteCommitThread.start(path.join(dir, 'threaded.sqlite'));
    try {
      const a = await runBatchJob(job({ name: 'direct' }), { store: direct, scorer: scoring.scorer, clock }, { origin: 'test' });
      const b = await runBatchJob(job({ name: 'threaded' }), { store: threaded, scorer: scoring.scorer, clock, commit: (i, p) => thread.commit(i, p) }, { origin: 'test' });
      expect(b).toMatchObject({ status: 'succeeded', rowsRead: 130, rowsWritten: 129, rowsRejected: 1, chunksCommitted: 4 });
      expect((await threaded.committedChunks(b.id)).size).toBe(4);
      const keys = Array.from({ length: 130 }, (_, i) => `c${i}`);
      const fromDirect = await direct.lookup('tabular_mlp', keys);
      const fromThread = await threaded.lookup('tabular_mlp', keys);
      expect(fromThread.size).toBe(129);
      for (const k of keys) {
        expect(fromThread.get(k)?.outputs).toEqual(fromDirect.get(k)?.outputs);
        if (fromThread.has(k)) expect(fromThread.get(k)!.jobId).toBe(b.id);
      }
      expect(a.rowsWritten).toBe(129);
    } finally {
      await thread.close();
      await threaded.close();
      await direct.close();
    }
  });

  it('fails with a clear error when the mapping does not fit the model', async () => {
    writeCsv(path.join(dir, 'rows.csv'), 5);
    const store = await SqlitePredictionStore.open(':memory:');
    try {
      const wrong = await runBatchJob(job({ inputs: { input: { columns: FEATURES.slice(0, 30) } } }), { store, scorer: scoring.scorer, clock }, { origin: 'test' });
      expect(wrong.status).toBe('failed');
      expect(wrong.error).toMatch(/maps 30 columns to input 'input' \(FP32 \[-1, 32\]\), whose rows hold 32 elements/);
      const unknown = await runBatchJob(job({ inputs: { x: { columns: FEATURES } } }), { store, scorer: scoring.scorer, clock }, { origin: 'test' });
      expect(unknown.error).toMatch(/maps input 'x', which model 'tabular_mlp' does not have/);
      const noOutput = await runBatchJob(job({ outputs: ['probabilities', 'scores'] }), { store, scorer: scoring.scorer, clock }, { origin: 'test' });
      expect(noOutput).toMatchObject({ status: 'failed', rowsRead: 0 });
      expect(noOutput.error).toBe("the job stores output 'scores', which model 'tabular_mlp' does not have; its outputs are 'probabilities'");
    } finally {
      await store.close();
    }
  });
});

describe('runBatchJob with chunks cut by bytes (issue 13 C1)', () => {
  it('cuts wide rows into smaller chunks, resumes a cancelled run skipping exactly its committed chunks, and numbers rejects right', async () => {
    // 400 rows; every 7th carries a 3000-byte note (a column the job does not read: the cut counts
    // the record's bytes in the file); row c250 is bad.
    const note = 'n'.repeat(3000);
    let s = `id,${FEATURES.join(',')},note\n`;
    for (let r = 0; r < 400; r++) {
      const values = FEATURES.map((_, j) => (((r * 31 + j * 7) % 200) / 25 - 4).toFixed(4));
      if (r === 250) values[3] = 'abc';
      s += `c${r},${values.join(',')},${r % 7 === 0 ? note : 'x'}\n`;
    }
    writeFileSync(path.join(dir, 'wide.csv'), s);
    const store = await SqlitePredictionStore.open(path.join(dir, 'wide.sqlite'));
    try {
      const j = job({ source: { csv: 'wide.csv' }, store: { sqlite: 'wide.sqlite' }, name: 'wide', chunkBytes: 8192 });
      expect(j.chunkBytes).toBe(8192);
      // The chunks a full read makes: rows only would be 10 of 40.
      const sizes: number[] = [];
      for await (const c of openSource(j).chunks({ chunkRows: j.chunkRows, chunkBytes: j.chunkBytes })) sizes.push(c.columns!.rowCount);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(400);
      expect(sizes.length).toBeGreaterThan(10);
      expect(Math.max(...sizes)).toBeLessThan(40);

      const cancelled = await runCancelledAfterThreeChunks(j, store);
      expect(cancelled.status).toBe('cancelled');
      const before = await store.committedChunks(cancelled.id);
      expect(before.size).toBeGreaterThanOrEqual(3);
      expect(before.size).toBeLessThan(sizes.length);
      const resumed = await runBatchJob(j, { store, scorer: scoring.scorer, clock }, { origin: 'test', jobId: cancelled.id, onProgress: () => undefined });
      expect(resumed).toMatchObject({ id: cancelled.id, status: 'succeeded', chunksCommitted: sizes.length, chunksTotal: sizes.length, rowsRead: 400, rowsWritten: 399, rowsRejected: 1 });
      const all = await store.lookup('tabular_mlp', Array.from({ length: 400 }, (_, i) => `c${i}`));
      expect(all.size).toBe(399);
      const rejects = readFileSync(j.rejectsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { rowNumber: number; key: string });
      expect(rejects.map((r) => [r.key, r.rowNumber])).toContainEqual(['c250', 252]);
    } finally {
      await store.close();
    }
  });
});
