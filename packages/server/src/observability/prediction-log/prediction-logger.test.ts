import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ComponentHealth } from '../../core/component-health.ts';
import { predictionLogServerDefaults } from '../../config/prediction-log-config.ts';
import type { InferOutcome } from '../../routing/inference-observer.ts';
import { ManualClock } from '../../testing/manual-clock.ts';
import { PredictionLogger } from './prediction-logger.ts';
import type { PredictionRecord, PredictionSink } from './record.ts';

/** The outcome of a sampled request, as record() reads it. */
const outcome = { token: { inputs: [], redactor: { apply: (t: unknown) => t } }, served: { name: 'm', version: 1 }, totalMs: 1 } as unknown as InferOutcome;

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('PredictionLogger', () => {
  it('a sink that stops answering holds one timed-out batch: later batches fail at once until it answers', async () => {
    const clock = new ManualClock();
    const health = new ComponentHealth(clock);
    const writes: PredictionRecord[][] = [];
    let answer: (() => void) | undefined;
    const sink: PredictionSink = {
      name: 'stuck',
      write: (records) => {
        writes.push([...records]);
        return answer === undefined ? new Promise<void>((resolve) => (answer = resolve)) : Promise.resolve();
      },
      query: async () => [],
      deleteBefore: async () => 0,
      close: async () => undefined,
    };
    const logger = new PredictionLogger({
      config: { ...predictionLogServerDefaults(), sink: 'postgres', writeTimeoutMs: 100, flushIntervalMs: 60_000 },
      openSink: async () => sink,
      clock,
      log: pino({ level: 'silent' }),
      health,
      retention: () => [],
    });

    logger.record(outcome);
    const first = logger.flush();
    await settle();
    clock.advance(100);
    await first;
    expect(writes).toHaveLength(1);
    expect(health.degraded().map((c) => c.reason)).toEqual(['1 records could not be written: the postgres sink did not answer within 100 ms']);

    for (let i = 0; i < 3; i++) {
      logger.record(outcome);
      await logger.flush(); // fails at once: no timer to wait for, no second write held
    }
    expect(writes).toHaveLength(1);
    expect(health.degraded().map((c) => c.reason)).toEqual(['1 records could not be written: the postgres sink has not yet answered a write that timed out (after 100 ms)']);

    answer!(); // the database answers the held write at last
    await settle();
    logger.record(outcome);
    await logger.flush();
    expect(writes).toHaveLength(2);
    expect(health.degraded()).toEqual([]);
    await logger.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
