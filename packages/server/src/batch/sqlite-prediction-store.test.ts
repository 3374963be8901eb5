import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../testing/index.ts';
import { predictionStoreContract, samplePrediction } from '../testing/prediction-store-contract.ts';
import { decodeOutputs } from './output-codec.ts';
import { SqlitePredictionStore } from './sqlite-prediction-store.ts';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await makeTempDir('sibyl-predictions-');
});
afterAll(async () => {
  await removeDir(dir);
});

const fileOf = (i: number): string => path.join(dir, `nested/folder/predictions-${i}.sqlite`);
predictionStoreContract('SQLite file', { open: () => SqlitePredictionStore.open(fileOf(++n)), reopen: () => SqlitePredictionStore.open(fileOf(n)) });
predictionStoreContract('SQLite :memory:', { open: () => SqlitePredictionStore.open(':memory:') });

describe('SqlitePredictionStore', () => {
  it('names the file it cannot open', async () => {
    const notADatabase = path.join(dir, 'text.sqlite');
    await writeFile(notADatabase, 'this is not a database file, just text long enough to have a header of its own');
    await expect(SqlitePredictionStore.open(notADatabase)).rejects.toThrow(`cannot open the prediction store ${notADatabase}: file is not a database`);
  });

  it('keeps one row per (model, key) with the documented columns, outputs as a binary blob', async () => {
    const file = path.join(dir, 'columns.sqlite');
    const store = await SqlitePredictionStore.open(file);
    await store.commitChunk('job-a', 0, [samplePrediction('c1'), samplePrediction('c2')]);
    await store.commitChunk('job-b', 0, [samplePrediction('c1', { jobId: 'job-b', outputs: [{ name: 'score', datatype: 'FP32', shape: [1], data: [0.5] }] })]);
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare('SELECT model, key, version, typeof(outputs) AS kind, outputs, job_id, created_at FROM predictions ORDER BY key').all() as { outputs: Buffer }[];
      expect(rows.map((r) => ({ ...r, outputs: decodeOutputs(r.outputs) }))).toEqual([
        { model: 'churn', key: 'c1', version: '3', kind: 'blob', outputs: [{ name: 'score', datatype: 'FP32', shape: [1], data: [0.5] }], job_id: 'job-b', created_at: 1_780_000_000_123 },
        { model: 'churn', key: 'c2', version: '3', kind: 'blob', outputs: samplePrediction('c2').outputs, job_id: 'job-a', created_at: 1_780_000_000_123 },
      ]);
      // format + count, name, datatype, rank + dim, encoding + element count, one float32.
      expect(rows[0]!.outputs.length).toBe(3 + (2 + 5) + (1 + 4) + (1 + 4) + (1 + 4) + 4);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('rolls a chunk back whole when one of its rows cannot be written', async () => {
    const store = await SqlitePredictionStore.open(':memory:');
    try {
      const rows = Array.from({ length: 300 }, (_, i) => samplePrediction(`k${i}`));
      (rows[250] as { version: unknown }).version = null;
      await expect(store.commitChunk('job-a', 0, rows)).rejects.toThrow(/NOT NULL constraint failed: predictions.version/);
      expect((await store.lookup('churn', ['k0', 'k200'])).size).toBe(0);
      expect((await store.committedChunks('job-a')).size).toBe(0);
    } finally {
      await store.close();
    }
  });
});
