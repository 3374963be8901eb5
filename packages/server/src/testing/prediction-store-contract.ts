// The contract every PredictionStore adapter passes (DESIGN.md, Conventions 3): memory, SQLite
// and PostgreSQL run the same suite. An adapter's test calls predictionStoreContract with a
// factory that opens a fresh, empty store.
import { describe, expect, it } from 'vitest';
import type { BatchJobRecord, PredictionStore, StoredPrediction } from '../batch/prediction-store.ts';
import { KEY_SEPARATOR } from '../batch/prediction-store.ts';

/** A prediction of every kind of output datatype the store must keep exactly. */
export function samplePrediction(key: string, overrides: Partial<StoredPrediction> = {}): StoredPrediction {
  return {
    model: 'churn',
    key,
    version: '3',
    jobId: 'job-a',
    createdAtMs: 1_780_000_000_123,
    outputs: [
      { name: 'probabilities', datatype: 'FP32', shape: [2], data: [0.10000000149011612, 0.8999999761581421] },
      { name: 'label', datatype: 'INT64', shape: [1], data: [-9007199254740991] },
      { name: 'names', datatype: 'BYTES', shape: [2], data: ['stays', 'ünïcödé "quoted"'] },
      { name: 'flags', datatype: 'BOOL', shape: [1, 2], data: [true, false] },
      { name: 'empty', datatype: 'FP32', shape: [0], data: [] },
    ],
    ...overrides,
  };
}

export function sampleJob(id: string, overrides: Partial<BatchJobRecord> = {}): BatchJobRecord {
  return {
    id,
    name: 'nightly',
    status: 'running',
    spec: { source: { type: 'csv', path: 'customers.csv' }, model: 'churn', key: ['id'] },
    origin: 'cli',
    createdAtMs: 1_780_000_000_000,
    startedAtMs: 1_780_000_000_500,
    rowsRead: 10,
    rowsWritten: 9,
    rowsRejected: 1,
    chunksCommitted: 1,
    ...overrides,
  };
}

const keysOf = (found: Map<string, StoredPrediction>): string[] => [...found.keys()].sort();

/**
 * `open` gives a fresh, empty store; for durable adapters, `reopen` opens the store that `open`
 * gave last, after it was closed (the persistence test runs only then).
 */
export function predictionStoreContract(name: string, adapter: { open: () => Promise<PredictionStore>; reopen?: () => Promise<PredictionStore> }): void {
  const withStore = async (use: (store: PredictionStore) => Promise<void>): Promise<void> => {
    const store = await adapter.open();
    try {
      await use(store);
    } finally {
      await store.close();
    }
  };

  describe(`PredictionStore contract: ${name}`, () => {
    it('returns what a chunk stored, exactly, for every datatype; missing keys are absent', () =>
      withStore(async (store) => {
        expect((await store.lookup('churn', ['c1'])).size).toBe(0);
        await store.commitChunk('job-a', 0, [samplePrediction('c1'), samplePrediction('c2', { version: '4', createdAtMs: 1_780_000_000_999 })]);
        const found = await store.lookup('churn', ['c1', 'c2', 'nobody']);
        expect(keysOf(found)).toEqual(['c1', 'c2']);
        expect(found.get('c1')).toEqual(samplePrediction('c1'));
        expect(found.get('c2')).toEqual(samplePrediction('c2', { version: '4', createdAtMs: 1_780_000_000_999 }));
        expect(await store.lookup('churn', [])).toEqual(new Map());
      }));

    it('keeps models apart: the same key of another model is another prediction', () =>
      withStore(async (store) => {
        await store.commitChunk('job-a', 0, [samplePrediction('c1')]);
        await store.commitChunk('job-b', 0, [samplePrediction('c1', { model: 'ltv', jobId: 'job-b', outputs: [{ name: 'value', datatype: 'FP64', shape: [1], data: [1234.5] }] })]);
        expect((await store.lookup('churn', ['c1'])).get('c1')!.outputs).toHaveLength(5);
        expect((await store.lookup('ltv', ['c1'])).get('c1')!.outputs).toEqual([{ name: 'value', datatype: 'FP64', shape: [1], data: [1234.5] }]);
        expect((await store.lookup('other', ['c1'])).size).toBe(0);
      }));

    it('replaces, never duplicates: a later job and a chunk committed again overwrite (model, key)', () =>
      withStore(async (store) => {
        await store.commitChunk('job-a', 0, [samplePrediction('c1'), samplePrediction('c2')]);
        await store.commitChunk('job-a', 0, [samplePrediction('c1', { version: '5' }), samplePrediction('c2', { version: '5' })]);
        await store.commitChunk('job-b', 3, [samplePrediction('c2', { jobId: 'job-b', version: '6', createdAtMs: 1_790_000_000_000 })]);
        const found = await store.lookup('churn', ['c1', 'c2', 'c1']);
        expect(keysOf(found)).toEqual(['c1', 'c2']);
        expect(found.get('c1')).toMatchObject({ version: '5', jobId: 'job-a' });
        expect(found.get('c2')).toMatchObject({ version: '6', jobId: 'job-b', createdAtMs: 1_790_000_000_000 });
        expect([...(await store.committedChunks('job-a'))]).toEqual([0]);
        expect([...(await store.committedChunks('job-b'))]).toEqual([3]);
      }));

    it('keeps the last of the rows of one chunk that share a (model, key)', () =>
      withStore(async (store) => {
        await store.commitChunk('job-a', 0, [samplePrediction('c1', { version: '1' }), samplePrediction('c2'), samplePrediction('c1', { version: '2' })]);
        const found = await store.lookup('churn', ['c1', 'c2']);
        expect(found.get('c1')!.version).toBe('2');
        expect(found.size).toBe(2);
      }));

    it('keeps each row its own model, version and job in a chunk that mixes them', () =>
      withStore(async (store) => {
        const rows = Array.from({ length: 100 }, (_, i) =>
          samplePrediction(`m${i}`, { model: i % 7 === 3 ? 'ltv' : 'churn', version: String(1 + (i >= 40 && i < 45 ? 1 : 0)), jobId: i === 90 ? 'job-x' : 'job-a', createdAtMs: 1_780_000_000_000 + i }),
        );
        await store.commitChunk('job-a', 0, rows);
        const churn = await store.lookup('churn', rows.map((r) => r.key));
        const ltv = await store.lookup('ltv', rows.map((r) => r.key));
        expect(churn.size + ltv.size).toBe(100);
        for (const r of rows) expect((r.model === 'ltv' ? ltv : churn).get(r.key)).toEqual(r);
      }));

    it('records committed chunks per job, also empty ones', () =>
      withStore(async (store) => {
        expect((await store.committedChunks('job-a')).size).toBe(0);
        await store.commitChunk('job-a', 2, [samplePrediction('c1')]);
        await store.commitChunk('job-a', 0, []);
        await store.commitChunk('job-a', 7, [samplePrediction('c9')]);
        await store.commitChunk('job-z', 1, [samplePrediction('z1', { jobId: 'job-z' })]);
        expect([...(await store.committedChunks('job-a'))].sort((a, b) => a - b)).toEqual([0, 2, 7]);
        expect([...(await store.committedChunks('job-z'))]).toEqual([1]);
      }));

    it('stores keys of any text, composite keys included, and thousands of rows in one chunk', () =>
      withStore(async (store) => {
        const odd = ['', ' ', `acme${KEY_SEPARATOR}42`, 'ключ', "it's; DROP TABLE x", 'a'.repeat(600)];
        await store.commitChunk('job-a', 0, odd.map((k) => samplePrediction(k)));
        expect(keysOf(await store.lookup('churn', odd))).toEqual([...odd].sort());
        const many = Array.from({ length: 5000 }, (_, i) => `k${i}`);
        await store.commitChunk('job-a', 1, many.map((k, i) => samplePrediction(k, { outputs: [{ name: 'score', datatype: 'FP32', shape: [1], data: [i / 8] }] })));
        const found = await store.lookup('churn', many);
        expect(found.size).toBe(5000);
        expect(found.get('k4999')!.outputs[0]!.data).toEqual([4999 / 8]);
        expect(found.get('k17')!.outputs[0]!.data).toEqual([17 / 8]);
      }));

    it('keeps its own copy: changing committed predictions or lookup results later changes nothing', () =>
      withStore(async (store) => {
        const p = samplePrediction('c1');
        await store.commitChunk('job-a', 0, [p]);
        p.outputs[0]!.data[0] = 99;
        p.version = 'mutated';
        const first = (await store.lookup('churn', ['c1'])).get('c1')!;
        expect(first).toEqual(samplePrediction('c1'));
        first.outputs[0]!.data[0] = 42;
        expect((await store.lookup('churn', ['c1'])).get('c1')).toEqual(samplePrediction('c1'));
      }));

    it('saves, replaces, reads and lists job records, newest first, by name and limit', () =>
      withStore(async (store) => {
        expect(await store.getJob('nope')).toBeUndefined();
        expect(await store.listJobs()).toEqual([]);
        await store.saveJob(sampleJob('j1', { createdAtMs: 1000 }));
        await store.saveJob(sampleJob('j2', { createdAtMs: 3000, name: 'weekly', origin: 'schedule:weekly', status: 'queued', startedAtMs: undefined }));
        await store.saveJob(sampleJob('j3', { createdAtMs: 2000 }));
        const done = sampleJob('j1', { createdAtMs: 1000, status: 'failed', finishedAtMs: 1_780_000_009_000, error: 'source missing: customers.csv', chunksTotal: 4 });
        await store.saveJob(done);
        expect(await store.getJob('j1')).toEqual(done);
        const queued = (await store.getJob('j2'))!;
        expect(queued).toEqual(sampleJob('j2', { createdAtMs: 3000, name: 'weekly', origin: 'schedule:weekly', status: 'queued', startedAtMs: undefined }));
        expect((await store.listJobs()).map((j) => j.id)).toEqual(['j2', 'j3', 'j1']);
        expect((await store.listJobs({ limit: 2 })).map((j) => j.id)).toEqual(['j2', 'j3']);
        expect((await store.listJobs({ name: 'nightly' })).map((j) => j.id)).toEqual(['j3', 'j1']);
        expect((await store.listJobs({ name: 'nightly', limit: 1 })).map((j) => j.id)).toEqual(['j3']);
        expect(await store.listJobs({ name: 'never' })).toEqual([]);
      }));

    const reopen = adapter.reopen;
    if (reopen === undefined) return;
    it('keeps predictions, chunks and jobs across a reopen', async () => {
      const store = await adapter.open();
      await store.commitChunk('job-a', 4, [samplePrediction('c1')]);
      await store.saveJob(sampleJob('job-a'));
      await store.close();
      const again = await reopen();
      try {
        expect((await again.lookup('churn', ['c1'])).get('c1')).toEqual(samplePrediction('c1'));
        expect([...(await again.committedChunks('job-a'))]).toEqual([4]);
        expect(await again.getJob('job-a')).toEqual(sampleJob('job-a'));
      } finally {
        await again.close();
      }
    });
  });
}
