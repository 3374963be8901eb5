// The contract every prediction sink passes (SQLite and JSON Lines in the unit tests, PostgreSQL
// in the integration tests): what is written can be read back, filtered, in time order, within
// the limit; retention deletes one model's old records only; close waits for writes. Imported by
// path from test files (it uses vitest), not through testing/index.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PredictionRecord, PredictionSink } from '../observability/prediction-log/record.ts';

export interface SinkUnderTest {
  sink: PredictionSink;
  /** Removes what the sink left (files, tables). */
  cleanup(): Promise<void>;
}

export function record(model: string, timeMs: number, extra: Partial<PredictionRecord> = {}): PredictionRecord {
  return {
    timeMs,
    model,
    version: '1',
    requestId: `req-${model}-${timeMs}`,
    latencyMs: 1.25,
    outcome: 'success',
    inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.5, -1] }],
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [0.25, 0.75] }],
    ...extra,
  };
}

export function describePredictionSinkContract(name: string, open: () => Promise<SinkUnderTest>): void {
  describe(`${name} prediction sink (contract)`, () => {
    let subject: SinkUnderTest;
    beforeEach(async () => {
      subject = await open();
    });
    afterEach(async () => {
      await subject.sink.close();
      await subject.cleanup();
    });

    it('reads back what it wrote, field for field', async () => {
      const written = record('m', 1000, { id: 'body-id', error: undefined });
      const failed = record('m', 1001, { outcome: 'error', error: { code: 'INVALID_ARGUMENT', reason: 'INPUT_SHAPE_MISMATCH' }, outputs: [] });
      const redacted = record('m', 1002, { inputs: [{ name: 'email', datatype: 'BYTES', shape: [1], data: ['ab12'], redaction: 'hashed' }, { name: 'photo', datatype: 'UINT8', shape: [1, 3], redaction: 'dropped' }] });
      await subject.sink.write([written, failed, redacted]);
      const read = await subject.sink.query({ model: 'm', sinceMs: 0, limit: 10 });
      expect(read).toEqual([JSON.parse(JSON.stringify(written)), failed, redacted]);
    });

    it('filters by model, time and version, oldest first, within the limit', async () => {
      await subject.sink.write([record('a', 30), record('b', 10), record('a', 10, { version: '2' })]);
      await subject.sink.write([record('a', 20), record('a', 40)]);
      const times = async (q: Partial<Parameters<PredictionSink['query']>[0]>) =>
        (await subject.sink.query({ model: 'a', sinceMs: 0, limit: 100, ...q })).map((r) => `${r.timeMs}/${r.version}`);
      expect(await times({})).toEqual(['10/2', '20/1', '30/1', '40/1']);
      expect(await times({ sinceMs: 20, untilMs: 40 })).toEqual(['20/1', '30/1']);
      expect(await times({ version: '1', limit: 2 })).toEqual(['20/1', '30/1']);
      expect(await times({ model: 'c' })).toEqual([]);
    });

    it('deletes one model’s records older than a time, and says how many', async () => {
      await subject.sink.write([record('a', 10), record('a', 20), record('a', 30), record('b', 10)]);
      expect(await subject.sink.deleteBefore('a', 25)).toBe(2);
      expect((await subject.sink.query({ model: 'a', sinceMs: 0, limit: 10 })).map((r) => r.timeMs)).toEqual([30]);
      expect((await subject.sink.query({ model: 'b', sinceMs: 0, limit: 10 })).map((r) => r.timeMs)).toEqual([10]);
      expect(await subject.sink.deleteBefore('a', 25)).toBe(0);
      await subject.sink.write([record('a', 40)]);
      expect((await subject.sink.query({ model: 'a', sinceMs: 0, limit: 10 })).map((r) => r.timeMs)).toEqual([30, 40]);
    });

    it('keeps overlapping writes and refuses work once closed', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => subject.sink.write([record('a', i)])));
      expect(await subject.sink.query({ model: 'a', sinceMs: 0, limit: 100 })).toHaveLength(20);
      await subject.sink.close();
      await subject.sink.close(); // idempotent
      await expect(subject.sink.write([record('a', 99)])).rejects.toThrow(/closed|ended|Cannot use a pool/i);
    });
  });
}
