// The model manager on a manual clock, with models in memory (MemoryModelStore) and fake
// instances answered by hand: no folders, no HTTP, no sleeps. Loads can be held to look at the
// manager mid-load; requests are held on their instance to look at it mid-drain.
import { SibylError, type Tensor } from '@sibyl/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createManagerHarness, settle, type ManagerHarness } from '../testing/manager-harness.ts';
import type { ModelManager, ModelManagerOptions } from './model-manager.ts';
import type { ServedVersion } from './served-version.ts';
import { RELOAD_FAILED } from './version-state.ts';

type Harness = ManagerHarness;

const open: ModelManager[] = [];

function harness(options: Partial<ModelManagerOptions> = {}): Harness {
  const h = createManagerHarness(options);
  open.push(h.manager);
  return h;
}

afterEach(async () => {
  for (const manager of open.splice(0)) await manager.close(0);
});

const x = (value: number): Tensor[] => [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: Float32Array.from([value]) }];

/** Sends one request to a served version; it waits on the instance until the test answers it. */
function send(served: ServedVersion, value: number): Promise<Tensor[]> {
  return served.execute({ inputs: x(value), outputNames: ['y'], rows: 1, batchKey: '' });
}

const states = (h: Harness, model = 'm'): [number, string, string][] => h.manager.status(model).versions.map((v) => [v.version, v.state, v.reason]);

describe('ModelManager on a manual clock with an in-memory store', () => {
  it('loads what the store holds: LOADING while the load runs, then READY and routed', async () => {
    const h = harness();
    h.store.putVersion('m', 1, 'fake');
    h.runtime.hold();
    const started = h.manager.start();
    await settle(h.clock);
    expect(states(h)).toEqual([[1, 'LOADING', 'loading']]);
    expect(() => h.manager.resolve('m')).toThrow(/not ready \(LOADING: loading\)/);
    h.runtime.release();
    await started;
    expect(states(h)).toEqual([[1, 'READY', '']]);
    expect(h.manager.resolve('m').version).toBe(1);
    expect([h.manager.has('m'), h.manager.has('n'), h.manager.names()]).toEqual([true, false, ['m']]);
    expect(h.manager.find('m')?.present).toEqual([1]);
    expect(h.manager.find('n')).toBeUndefined();
  });

  it('swaps to a new version with nothing dropped: the old one serves until the new is READY, then drains', async () => {
    const h = harness();
    h.store.putVersion('m', 1, 'fake');
    await h.manager.start();
    const v1 = h.manager.resolve('m');
    const inFlight = send(v1, 7);
    await settle(h.clock);
    expect(h.runtime.instanceOf('m', 1).outstanding).toBe(1);

    h.store.putVersion('m', 2, 'fake');
    h.runtime.hold();
    await h.manager.poll();
    await settle(h.clock);
    expect(states(h)).toEqual([
      [1, 'READY', ''],
      [2, 'LOADING', 'loading'],
    ]);
    expect(h.manager.resolve('m').version).toBe(1);

    h.runtime.release();
    await settle(h.clock);
    expect(h.manager.resolve('m').version).toBe(2);
    expect(states(h)[0]!.slice(0, 2)).toEqual([1, 'UNLOADING']);
    expect(h.runtime.instanceOf('m', 1).alive).toBe(true);

    h.runtime.instanceOf('m', 1).current!.finish();
    expect(Array.from((await inFlight)[0]!.data as Float32Array)).toEqual([7]);
    await h.manager.whenSettled();
    expect(h.runtime.instanceOf('m', 1).alive).toBe(false);
    expect(states(h)).toEqual([
      [1, 'UNAVAILABLE', 'unloaded: replaced by version 2; the version policy (latest: 1) selects 2'],
      [2, 'READY', ''],
    ]);
  });

  it('reloads a READY version whose artifact changed beside it: requests in flight finish on the old generation', async () => {
    const h = harness();
    h.store.putVersion('m', 1, 'fake');
    await h.manager.start();
    const before = h.manager.resolve('m');
    const inFlight = send(before, 3);
    await settle(h.clock);
    h.store.putVersion('m', 1, 'fake ');
    await h.manager.poll();
    await settle(h.clock);
    const after = h.manager.resolve('m');
    expect(after).not.toBe(before);
    expect([after.version, before.admitting, after.admitting]).toEqual([1, false, true]);
    h.runtime.instances[0]!.current!.finish();
    expect(Array.from((await inFlight)[0]!.data as Float32Array)).toEqual([3]);
    await h.manager.whenSettled();
    expect(h.runtime.instances.map((i) => i.alive)).toEqual([false, true]);
  });

  it('keeps the old version serving when the new one fails to load, and says why', async () => {
    const h = harness();
    h.store.putVersion('m', 1, 'fake');
    await h.manager.start();
    h.store.putVersion('m', 2, 'fail: corrupt protobuf');
    await h.manager.poll();
    await h.manager.whenSettled();
    const [v1, v2] = h.manager.status('m').versions;
    expect([v2!.state, v2!.reason]).toEqual(['UNAVAILABLE', 'load failed: cannot load memory://m/2/model.onnx: fail: corrupt protobuf']);
    expect([v1!.state, v1!.reason]).toEqual(['READY', 'serving as the fallback: the desired version (2) failed to load']);
    expect(h.manager.resolve('m').version).toBe(1);
  });

  it('keeps the earlier load serving when a reload with changed files fails', async () => {
    const h = harness();
    h.store.putVersion('m', 1, 'fake');
    await h.manager.start();
    const served = h.manager.resolve('m');
    h.store.putVersion('m', 1, 'fail: truncated');
    await h.manager.poll();
    await h.manager.whenSettled();
    const [v1] = h.manager.status('m').versions;
    expect(v1!.state).toBe('READY');
    expect(v1!.reason).toBe(`${RELOAD_FAILED}: load failed: cannot load memory://m/1/model.onnx: fail: truncated`);
    expect(h.manager.resolve('m')).toBe(served);
  });

  it('unloads through the API by stopping admission, draining the requests in flight, then freeing the instances', async () => {
    const h = harness({ controlMode: 'explicit', startupModels: ['*'] });
    h.store.putVersion('m', 1, 'fake');
    await h.manager.start();
    const inFlight = send(h.manager.resolve('m'), 5);
    await settle(h.clock);
    let unloaded = false;
    const unloading = h.manager.control.unload('m').then(() => (unloaded = true));
    await settle(h.clock);
    expect(states(h)).toEqual([[1, 'UNLOADING', 'unloaded: unloaded through the API']]);
    expect(() => h.manager.resolve('m')).toThrow(SibylError);
    expect([unloaded, h.runtime.instanceOf('m', 1).alive]).toEqual([false, true]);
    h.runtime.instanceOf('m', 1).current!.finish();
    expect(Array.from((await inFlight)[0]!.data as Float32Array)).toEqual([5]);
    await unloading;
    expect(h.runtime.instanceOf('m', 1).alive).toBe(false);
    expect(states(h)[0]!.slice(0, 2)).toEqual([1, 'UNAVAILABLE']);
  });

  it('polls the store on its clock (poll mode): a new version is found and loaded when the interval passes', async () => {
    const h = harness({ pollIntervalMs: 5_000 });
    h.store.putVersion('m', 1, 'fake');
    await h.manager.start();
    h.store.putVersion('m', 2, 'fake');
    h.clock.advance(4_999);
    await settle(h.clock);
    expect(h.manager.status('m').versions.map((v) => v.version)).toEqual([1]);
    h.clock.advance(1);
    await settle(h.clock);
    await h.manager.whenSettled();
    expect(h.manager.resolve('m').version).toBe(2);
  });

  it('forgets a model whose entry left the store once it is unloaded', async () => {
    const h = harness();
    h.store.putVersion('m', 1, 'fake');
    h.store.putVersion('n', 1, 'fake');
    await h.manager.start();
    h.store.removeModel('n');
    await h.manager.poll();
    await h.manager.whenSettled();
    expect(h.manager.names()).toEqual(['m']);
  });
});

describe('every wait of the manager is bounded', () => {
  async function labelled(h: Harness): Promise<void> {
    h.store.putVersion('m', 1, 'fake');
    h.store.putVersion('m', 2, 'fake');
    h.store.putConfig('m', 'versionPolicy: { specific: [2] }\n');
    await h.manager.start();
    h.runtime.hold();
  }

  it('a label move waiting for a load that hangs rejects DEADLINE_EXCEEDED at its deadline; the label stays', async () => {
    const h = harness();
    await labelled(h);
    const moving = h.manager.control.setLabel('m', 'stable', 1, { deadlineMs: h.clock.now() + 2_000 }).catch((err: unknown) => err);
    await settle(h.clock);
    expect(h.runtime.loadsHeld).toBe(1);
    h.clock.advance(1_999);
    await settle(h.clock);
    expect(h.manager.status('m').versions[0]!.state).toBe('LOADING');
    h.clock.advance(1);
    const err = (await moving) as SibylError;
    expect(err).toBeInstanceOf(SibylError);
    expect(err.reason).toBe('DEADLINE_EXCEEDED');
    expect(err.message).toBe("cannot point label 'stable' of model 'm' at version 1: it was still LOADING when the deadline passed after 2000 ms; the label was not moved");
    expect(h.manager.status('m').labels.has('stable')).toBe(false);
    h.runtime.release();
    await h.manager.whenSettled();
    expect(h.manager.status('m').labels.has('stable')).toBe(false);
    expect(h.manager.resolve('m').version).toBe(2);
  });

  it('a label move without a deadline gives up after the manager waitTimeoutMs (it used to wait forever)', async () => {
    const h = harness({ waitTimeoutMs: 5_000 });
    await labelled(h);
    const moving = h.manager.control.setLabel('m', 'stable', 1).catch((err: unknown) => err);
    await settle(h.clock);
    h.clock.advance(5_000);
    expect(((await moving) as SibylError).reason).toBe('DEADLINE_EXCEEDED');
    h.runtime.release();
  });

  it('a label move is abandoned when its caller cancels', async () => {
    const h = harness();
    await labelled(h);
    const abort = new AbortController();
    const moving = h.manager.control.setLabel('m', 'stable', 1, { signal: abort.signal }).catch((err: unknown) => err);
    await settle(h.clock);
    abort.abort();
    expect(((await moving) as SibylError).reason).toBe('REQUEST_CANCELLED');
    h.runtime.release();
  });

  it('a label move whose load finishes in time moves the label', async () => {
    const h = harness();
    await labelled(h);
    const moving = h.manager.control.setLabel('m', 'stable', 1, { deadlineMs: h.clock.now() + 2_000 });
    await settle(h.clock);
    h.clock.advance(1_000);
    h.runtime.release();
    expect((await moving).version).toBe(1);
    expect(h.manager.resolve('m', { label: 'stable' }).version).toBe(1);
  });

  it('an explicit load whose versions hang rejects DEADLINE_EXCEEDED at its deadline', async () => {
    const h = harness({ controlMode: 'explicit' });
    h.store.putVersion('m', 1, 'fake');
    await h.manager.start();
    h.runtime.hold();
    const loading = h.manager.control.load('m', { deadlineMs: h.clock.now() + 3_000 }).catch((err: unknown) => err);
    await settle(h.clock);
    h.clock.advance(3_000);
    const err = (await loading) as SibylError;
    expect([err.reason, err.message]).toEqual(['DEADLINE_EXCEEDED', "model 'm' is still loading: the deadline passed after 3000 ms; it goes on in the background"]);
    h.runtime.release();
    await h.manager.whenSettled();
    expect(h.manager.status('m').versions[0]!.state).toBe('READY');
  });

  it('waiting for the models to settle rejects DEADLINE_EXCEEDED while a load hangs past the deadline', async () => {
    const h = harness();
    h.store.putVersion('m', 1, 'fake');
    await h.manager.start();
    h.runtime.hold();
    h.store.putVersion('m', 2, 'fake');
    await h.manager.poll();
    const settling = h.manager.whenSettled({ deadlineMs: h.clock.now() + 100 }).catch((err: unknown) => err);
    await settle(h.clock);
    h.clock.advance(100);
    const err = (await settling) as SibylError;
    expect([err.reason, err.message]).toEqual(['DEADLINE_EXCEEDED', 'models were still loading or draining when the deadline passed after 100 ms']);
    h.runtime.release();
    await h.manager.whenSettled();
    expect(h.manager.resolve('m').version).toBe(2);
  });

  it('a request loading an evicted version on demand rejects DEADLINE_EXCEEDED at its deadline', async () => {
    const h = harness({ limits: { maxLoadedVersions: 1, memoryBudgetBytes: 0 } });
    h.store.putVersion('a', 1, 'fake');
    h.store.putVersion('b', 1, 'fake');
    await h.manager.start();
    const onDemand = h.manager.status('a').versions[0]!.state === 'READY' ? 'b' : 'a';
    expect(h.manager.status(onDemand).versions[0]!.loadsOnDemand).toBe(true);
    h.runtime.hold();
    const acquiring = Promise.resolve(h.manager.acquire(onDemand, {}, { deadlineMs: h.clock.now() + 500 })).catch((err: unknown) => err);
    await settle(h.clock);
    h.clock.advance(500);
    expect(((await acquiring) as SibylError).reason).toBe('DEADLINE_EXCEEDED');
    h.runtime.release();
    await h.manager.whenSettled();
  });
});
