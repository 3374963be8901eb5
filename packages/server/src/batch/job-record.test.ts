// The recorded spec of a job pins its chunk cut: chunkBytes is written into the compiled document
// (what the job record keeps), so resume cuts the same chunks whatever the default is later, and a
// record from before chunkBytes existed is not taken for the same spec.
import { describe, expect, it } from 'vitest';
import { compileBatchJob, DEFAULT_CHUNK_BYTES } from '../config/batch-job-config.ts';
import { MemoryPredictionStore } from '../testing/memory-prediction-store.ts';
import { jobToResume } from './job-record.ts';

const spec = { name: 'scores', source: { csv: '/data/rows.csv' }, key: 'id', inputs: { input: { column: 'x' } }, target: { model: 'm' }, store: { sqlite: '/data/p.sqlite' } };

describe('compileBatchJob: chunkBytes in the recorded document', () => {
  it('records the default when the spec sets none, and the value when it does', () => {
    expect(compileBatchJob(spec, '/data/job.yaml').document.chunkBytes).toBe(DEFAULT_CHUNK_BYTES);
    expect(compileBatchJob({ ...spec, chunkBytes: 4096 }, '/data/job.yaml').document.chunkBytes).toBe(4096);
  });

  it('compiles its own document again to the same cut', () => {
    const job = compileBatchJob(spec, '/data/job.yaml');
    expect(compileBatchJob(job.document, 'the record').chunkBytes).toBe(job.chunkBytes);
  });

  it('the CLI does not resume a record whose spec has no chunkBytes (recorded before byte cuts), and does resume one recorded now', async () => {
    const store = await MemoryPredictionStore.open();
    const job = compileBatchJob(spec, '/data/job.yaml');
    const { chunkBytes: _, ...older } = job.document;
    const base = { name: 'scores', status: 'failed' as const, origin: 'cli', createdAtMs: 1, startedAtMs: 1, rowsRead: 10, rowsWritten: 10, rowsRejected: 0, chunksCommitted: 1 };
    await store.saveJob({ ...base, id: 'old', spec: older });
    expect(await jobToResume(job, store, {})).toBeUndefined();
    await store.saveJob({ ...base, id: 'new', createdAtMs: 2, spec: job.document });
    expect((await jobToResume(job, store, {}))?.id).toBe('new');
    await store.close();
  });
});
