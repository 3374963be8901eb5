// Every load of a version is bounded by loadTimeoutMs: a load that hangs (a worker that never
// answers) is abandoned at its deadline, the version fails with a reason that says so, and
// everything that waited on the load goes on. Its late outcome never serves. On a manual clock
// with held fake loads: no sleeps.
import { SibylError } from '@sibyl/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { fieldDefault } from '../config/schema-defaults.ts';
import { ModelConfigSchema } from '../config/model-config.ts';
import { createManagerHarness, settle, type ManagerHarness } from '../testing/manager-harness.ts';
import type { ModelManagerOptions } from './model-manager.ts';
import { loadTimeoutReason, RELOAD_FAILED } from './version-state.ts';

const open: ManagerHarness[] = [];

function harness(options: Partial<ModelManagerOptions> = {}): ManagerHarness {
  const h = createManagerHarness(options);
  open.push(h);
  return h;
}

afterEach(async () => {
  // Held loads are let go first, so that a manager whose loads were not bounded still closes.
  for (const h of open.splice(0)) {
    h.runtime.release();
    await h.manager.close(0);
  }
});

const BOUND = 5_000;
const TIMED_OUT = loadTimeoutReason(BOUND);
const states = (h: ManagerHarness, model = 'm'): [number, string, string][] => h.manager.status(model).versions.map((v) => [v.version, v.state, v.reason]);

/** A model `m` with version 1 whose loads are bounded by BOUND and held. */
function hungModel(h: ManagerHarness, artifact = 'fake', extraConfig = ''): void {
  h.store.putVersion('m', 1, artifact);
  h.store.putConfig('m', `loadTimeoutMs: ${BOUND}\n${extraConfig}`);
  h.runtime.hold();
}

/**
 * What `p` settled with, once pending work has run (no time passes); fails the test when `p` is
 * still waiting (a wait the load's bound should have ended), rather than hanging it.
 */
async function settled<T>(h: ManagerHarness, p: Promise<T>): Promise<T> {
  const w = watch(p);
  await settle(h.clock);
  if (!w.done) throw new Error('still waiting');
  return p;
}

/** Tracks whether a promise has settled. */
function watch(p: Promise<unknown>): { readonly done: boolean } {
  const w = { done: false };
  void p.then(
    () => (w.done = true),
    () => (w.done = true),
  );
  return w;
}

describe('a load that hangs is abandoned at loadTimeoutMs', () => {
  it('start-up goes on at the bound: the version is UNAVAILABLE with the timeout reason, the manager loaded', async () => {
    const h = harness();
    hungModel(h);
    const starting = h.manager.start();
    const started = watch(starting);
    await settle(h.clock);
    expect(states(h)).toEqual([[1, 'LOADING', 'loading']]);
    h.clock.advance(BOUND - 1);
    await settle(h.clock);
    expect([started.done, states(h)]).toEqual([false, [[1, 'LOADING', 'loading']]]);
    h.clock.advance(1);
    await settled(h, starting);
    expect(h.manager.loaded).toBe(true);
    expect(states(h)).toEqual([[1, 'UNAVAILABLE', TIMED_OUT]]);
    expect(TIMED_OUT).toMatch(/^load did not finish within 5000 ms \(loadTimeoutMs\) and was abandoned/);
    expect(() => h.manager.resolve('m')).toThrow(/not ready \(UNAVAILABLE: load did not finish within 5000 ms/);
  });

  it('a load that finishes after it was abandoned has its instances closed and never serves', async () => {
    const h = harness();
    hungModel(h);
    const starting = h.manager.start();
    await settle(h.clock);
    h.clock.advance(BOUND);
    await settled(h, starting);
    h.runtime.release();
    await settle(h.clock);
    expect(h.runtime.instances.map((i) => [i.label, i.alive])).toEqual([['m:1#0', false]]);
    expect(states(h)).toEqual([[1, 'UNAVAILABLE', TIMED_OUT]]);
    expect(() => h.manager.resolve('m')).toThrow(SibylError);
  });

  it('the instances an abandoned load made before the one that hung are closed once it ends', async () => {
    const h = harness();
    hungModel(h, 'fake', 'instanceCount: 2\n');
    const starting = h.manager.start();
    await settle(h.clock);
    h.runtime.releaseOne();
    await settle(h.clock);
    expect([h.runtime.instances.map((i) => i.label), h.runtime.loadsHeld]).toEqual([['m:1#0'], 1]);
    h.clock.advance(BOUND);
    await settled(h, starting);
    h.runtime.release();
    await settle(h.clock);
    expect(h.runtime.instances.map((i) => [i.label, i.alive])).toEqual([
      ['m:1#0', false],
      ['m:1#1', false],
    ]);
    expect(states(h)).toEqual([[1, 'UNAVAILABLE', TIMED_OUT]]);
  });

  it('an abandoned load that fails later changes nothing', async () => {
    const h = harness();
    hungModel(h, 'fail: too late');
    const starting = h.manager.start();
    await settle(h.clock);
    h.clock.advance(BOUND);
    await settled(h, starting);
    h.runtime.release();
    await settle(h.clock);
    expect(states(h)).toEqual([[1, 'UNAVAILABLE', TIMED_OUT]]);
    expect(h.runtime.instances).toEqual([]);
  });

  it('is bounded by the schema default when the config says nothing', async () => {
    const h = harness();
    h.store.putVersion('m', 1, 'fake');
    h.runtime.hold();
    const bound = fieldDefault<number>(ModelConfigSchema, 'loadTimeoutMs');
    const starting = h.manager.start();
    await settle(h.clock);
    h.clock.advance(bound);
    await settled(h, starting);
    expect(states(h)).toEqual([[1, 'UNAVAILABLE', loadTimeoutReason(bound)]]);
    h.runtime.release();
  });

  it('frees its load slot: the next model loads while the abandoned load still hangs', async () => {
    const h = harness({ loadConcurrency: 1 });
    h.store.putVersion('a', 1, 'fake');
    h.store.putVersion('b', 1, 'fake');
    h.store.putConfig('a', `loadTimeoutMs: ${BOUND}\n`);
    h.store.putConfig('b', `loadTimeoutMs: ${BOUND}\n`);
    h.runtime.hold();
    const starting = h.manager.start();
    await settle(h.clock);
    expect(h.runtime.loadsHeld).toBe(1);
    h.clock.advance(BOUND);
    await settle(h.clock);
    expect(h.runtime.loadsHeld).toBe(2);
    // The models start in name order: a holds the only slot until its deadline, then b has it.
    expect([states(h, 'a'), states(h, 'b')]).toEqual([[[1, 'UNAVAILABLE', TIMED_OUT]], [[1, 'LOADING', 'loading']]]);
    h.runtime.release();
    await settled(h, starting);
    expect(states(h, 'b')).toEqual([[1, 'READY', '']]);
    expect(h.runtime.instanceOf('a', 1).alive).toBe(false);
    expect(h.manager.resolve('b').version).toBe(1);
  });

  it('a retry with changed files is not confused by the abandoned load finishing meanwhile', async () => {
    const h = harness();
    hungModel(h);
    const starting = h.manager.start();
    await settle(h.clock);
    h.clock.advance(BOUND);
    await settled(h, starting);
    h.store.putVersion('m', 1, 'fake ');
    await h.manager.poll();
    await settle(h.clock);
    expect([h.runtime.loadsHeld, states(h)]).toEqual([2, [[1, 'LOADING', 'loading']]]);
    h.runtime.releaseOne();
    await settle(h.clock);
    expect([h.runtime.instances.map((i) => i.alive), states(h)]).toEqual([[false], [[1, 'LOADING', 'loading']]]);
    h.runtime.releaseOne();
    await h.manager.whenSettled();
    expect(states(h)).toEqual([[1, 'READY', '']]);
    expect(h.manager.resolve('m')).toBeDefined();
    expect(h.runtime.instances.map((i) => i.alive)).toEqual([false, true]);
  });

  it('a reload that hangs leaves the earlier load serving, with the timeout as its reload failure', async () => {
    const h = harness();
    h.store.putVersion('m', 1, 'fake');
    h.store.putConfig('m', `loadTimeoutMs: ${BOUND}\n`);
    await h.manager.start();
    const served = h.manager.resolve('m');
    h.store.putVersion('m', 1, 'fake ');
    h.runtime.hold();
    await h.manager.poll();
    const settling = h.manager.whenSettled();
    await settle(h.clock);
    h.clock.advance(BOUND);
    await settled(h, settling);
    expect(states(h)).toEqual([[1, 'READY', `${RELOAD_FAILED}: ${TIMED_OUT}`]]);
    expect(h.manager.resolve('m')).toBe(served);
    h.runtime.release();
    await settle(h.clock);
    expect(h.manager.resolve('m')).toBe(served);
    expect(h.runtime.instances.map((i) => i.alive)).toEqual([true, false]);
  });

  it('releases a request loading the version on demand: it is answered MODEL_NOT_READY with the reason', async () => {
    const h = harness({ limits: { maxLoadedVersions: 1, memoryBudgetBytes: 0 } });
    h.store.putVersion('a', 1, 'fake');
    h.store.putVersion('b', 1, 'fake');
    h.store.putConfig('a', `loadTimeoutMs: ${BOUND}\n`);
    h.store.putConfig('b', `loadTimeoutMs: ${BOUND}\n`);
    await h.manager.start();
    const onDemand = h.manager.status('a').versions[0]!.state === 'READY' ? 'b' : 'a';
    h.runtime.hold();
    // No request deadline: without the load's bound it would wait the manager's waitTimeoutMs.
    const acquiring = Promise.resolve(h.manager.acquire(onDemand, {})).catch((err: unknown) => err);
    await settle(h.clock);
    h.clock.advance(BOUND);
    const err = (await settled(h, acquiring)) as SibylError;
    expect(err).toBeInstanceOf(SibylError);
    expect([err.reason, err.message]).toEqual(['MODEL_NOT_READY', `model '${onDemand}' is not ready (UNAVAILABLE: ${TIMED_OUT})`]);
    h.runtime.release();
  });

  it('shutdown waits for a hung load no longer than its bound', async () => {
    const h = harness();
    hungModel(h);
    void h.manager.start();
    await settle(h.clock);
    const closing = watch(h.manager.close(0));
    h.clock.advance(BOUND - 1);
    await settle(h.clock);
    expect(closing.done).toBe(false);
    h.clock.advance(1);
    await settle(h.clock);
    expect(closing.done).toBe(true);
    h.runtime.release();
    await settle(h.clock);
    expect(h.runtime.instances.map((i) => i.alive)).toEqual([false]);
  });
});
