import { describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { ManualClock } from '../testing/manual-clock.ts';
import { ComponentHealth, watchedStore, type ComponentChange } from './component-health.ts';

function setup() {
  const clock = new ManualClock(1_000);
  const health = new ComponentHealth(clock);
  const changes: string[] = [];
  health.onChange((c: ComponentChange) => changes.push(`${c.component} ${c.previous}→${c.state}${c.reason === undefined ? '' : `: ${c.reason}`}`));
  return { clock, health, changes };
}

describe('ComponentHealth', () => {
  it('degrades on a failure, keeps the latest reason, recovers on the next success; tells each change once', () => {
    const { clock, health, changes } = setup();
    health.succeeded('state_store'); // ok → ok: no change
    health.failed('prediction_log', 'SQLITE_FULL: database or disk is full');
    clock.advance(500);
    health.failed('prediction_log', 'ENOSPC');
    expect(health.degraded()).toEqual([{ component: 'prediction_log', state: 'degraded', reason: 'ENOSPC', sinceMs: 1_000 }]);
    expect(health.isDegraded('prediction_log')).toBe(true);
    health.succeeded('prediction_log');
    health.succeeded('prediction_log');
    expect(health.degraded()).toEqual([]);
    expect(changes).toEqual(['prediction_log ok→degraded: SQLITE_FULL: database or disk is full', 'prediction_log degraded→ok']);
  });

  it('lists degraded components in a fixed order', () => {
    const { health } = setup();
    health.failed('response_cache', 'a');
    health.failed('state_store', 'b');
    expect(health.degraded().map((s) => s.component)).toEqual(['state_store', 'response_cache']);
  });
});

describe('watchedStore', () => {
  class Store {
    broken = false;
    async put(value: string): Promise<string> {
      if (value === 'bad') throw new SibylError('STATE_INVALID', 'bad value');
      if (this.broken) throw new Error('SQLITE_FULL: database or disk is full');
      return value;
    }
    get(key: string): string {
      if (this.broken) throw new Error('disk I/O error');
      return key;
    }
    async close(): Promise<void> {
      throw new Error('close failures are not watched');
    }
  }

  it('reports failures and successes of every method, maps failures, passes caller errors through', async () => {
    const { health, changes } = setup();
    const inner = new Store();
    const store = watchedStore(inner, 'state_store', health, {
      isCallerError: (err) => err instanceof SibylError,
      toError: (err, method) => new SibylError('INTERNAL_ERROR', `${method}: ${(err as Error).message}`),
    });
    await expect(store.put('bad')).rejects.toMatchObject({ reason: 'STATE_INVALID' });
    expect(health.degraded()).toEqual([]);
    inner.broken = true;
    await expect(store.put('x')).rejects.toThrow('put: SQLITE_FULL: database or disk is full');
    expect(() => store.get('k')).toThrow('get: disk I/O error');
    expect(health.degraded()[0]).toMatchObject({ component: 'state_store', reason: 'disk I/O error' });
    await expect(store.close()).rejects.toThrow('close failures are not watched');
    inner.broken = false;
    await expect(store.put('x')).resolves.toBe('x');
    expect(store.get('k')).toBe('k');
    expect(changes).toEqual(['state_store ok→degraded: SQLITE_FULL: database or disk is full', 'state_store degraded→ok']);
  });
});

describe('watchedStore with a timeout', () => {
  it('fails a call that has not settled in time, reports the component degraded, and lets the late outcome report too', async () => {
    const { clock, health, changes } = setup();
    let answer!: (v: string) => void;
    const inner = {
      lookup: () => new Promise<string>((resolve) => (answer = resolve)),
      write: async () => 'written',
    };
    const store = watchedStore(inner, 'prediction_store', health, {
      isCallerError: () => false,
      toError: (err, method) => new SibylError('PREDICTION_STORE_UNAVAILABLE', `${method}: ${(err as Error).message}`),
      timeout: { clock, ms: (method) => (method === 'lookup' ? 500 : undefined) },
    });
    const pending = store.lookup().catch((e: unknown) => e);
    clock.advance(499);
    await Promise.resolve();
    expect(health.degraded()).toEqual([]);
    clock.advance(1);
    expect(await pending).toMatchObject({ reason: 'PREDICTION_STORE_UNAVAILABLE', message: 'lookup: lookup did not answer within 500 ms' });
    expect(health.isDegraded('prediction_store')).toBe(true);
    answer('late'); // the call went on; its success recovers the component
    await new Promise((resolve) => setImmediate(resolve));
    expect(health.isDegraded('prediction_store')).toBe(false);
    await expect(store.write()).resolves.toBe('written'); // no timeout: no timer
    const quick = store.lookup();
    answer('fast');
    await expect(quick).resolves.toBe('fast');
    expect(clock.pendingTimers).toBe(0);
    expect(changes).toEqual(['prediction_store ok→degraded: lookup did not answer within 500 ms', 'prediction_store degraded→ok']);
  });
});
