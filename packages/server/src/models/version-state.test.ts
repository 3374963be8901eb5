import { describe, expect, it } from 'vitest';
import type { ServedVersion } from './served-version.ts';
import { apply, INITIAL_LIFE, isIdle, isLoading, isResident, isStale, loadTimeoutReason, phaseOf, RELOAD_FAILED, servedOf, type VersionEvent, type VersionLife, type VersionState } from './version-state.ts';

// Generations are opaque to the reducer: tokens stand in for them.
const gen = (n: number): ServedVersion => ({ generation: n }) as unknown as ServedVersion;
const OLD = gen(1);
const NEW = gen(2);

const life = (state: VersionState, draining = 0): VersionLife => ({ state, draining });
const unloaded = life({ kind: 'unloaded', note: 'unloaded: x', dormant: false });
const dormant = life({ kind: 'unloaded', note: 'evicted: y', dormant: true });
const loading = life({ kind: 'loading', note: 'n' });
const ready = life({ kind: 'ready', served: OLD, fingerprint: 'f1', reloading: false });
const reloading = life({ kind: 'ready', served: OLD, fingerprint: 'f1', reloading: true });
const reloadFailed = life({ kind: 'ready', served: OLD, fingerprint: 'f1', reloading: false, reloadFailure: { fingerprint: 'f2', reason: `${RELOAD_FAILED}: boom`, cause: 'boom' } });
const failed = life({ kind: 'failed', fingerprint: 'f1', reason: 'load failed: bad', note: 'n' });

const started: VersionEvent = { type: 'load-started' };
const loaded: VersionEvent = { type: 'loaded', served: NEW, fingerprint: 'f2' };
const loadFailed: VersionEvent = { type: 'load-failed', fingerprint: 'f2', reason: 'load failed: boom' };
const timedOut: VersionEvent = { type: 'load-timed-out', fingerprint: 'f2', timeoutMs: 600_000 };
const TIMEOUT_REASON = 'load did not finish within 600000 ms (loadTimeoutMs) and was abandoned; its instances are closed if it ever finishes; raise loadTimeoutMs if the model needs longer to load and warm up';
const refusedNever: VersionEvent = { type: 'refused', fingerprint: 'f2', reason: 'too big', retry: 'never' };
const refusedRoom: VersionEvent = { type: 'refused', fingerprint: 'f2', reason: 'no room', retry: 'on-demand' };
const refusedBusy: VersionEvent = { type: 'refused', fingerprint: 'f2', reason: 'busy', retry: 'busy' };
const unload: VersionEvent = { type: 'unload', note: 'unloaded: gone' };
const evict: VersionEvent = { type: 'unload', note: 'evicted: lru', dormant: true };
const drained: VersionEvent = { type: 'drain-ended' };

const IGNORED = 'ignored' as const;

describe('apply (the version state machine)', () => {
  // Every state × every event: the next life, or 'ignored' (the same object comes back).
  const table: [string, VersionLife, VersionEvent, VersionLife | typeof IGNORED][] = [
    // load-started
    ['unloaded + load-started → loading (note kept)', unloaded, started, life({ kind: 'loading', note: 'unloaded: x' })],
    ['dormant + load-started → loading', dormant, started, life({ kind: 'loading', note: 'evicted: y' })],
    ['failed + load-started → loading (a retry with changed files)', failed, started, life({ kind: 'loading', note: 'n' })],
    ['ready + load-started → ready, reloading', ready, started, reloading],
    ['loading + load-started: ignored', loading, started, IGNORED],
    ['reloading + load-started: ignored', reloading, started, IGNORED],
    // loaded
    ['loading + loaded → ready', loading, loaded, life({ kind: 'ready', served: NEW, fingerprint: 'f2', reloading: false })],
    ['reloading + loaded → ready with the new generation; the old drains', reloading, loaded, life({ kind: 'ready', served: NEW, fingerprint: 'f2', reloading: false }, 1)],
    ['unloaded + loaded: ignored', unloaded, loaded, IGNORED],
    ['ready (not reloading) + loaded: ignored', ready, loaded, IGNORED],
    ['failed + loaded: ignored', failed, loaded, IGNORED],
    // load-failed
    ['loading + load-failed → failed', loading, loadFailed, life({ kind: 'failed', fingerprint: 'f2', reason: 'load failed: boom', note: 'n' })],
    ['unloaded + load-failed (artifact missing) → failed', unloaded, loadFailed, life({ kind: 'failed', fingerprint: 'f2', reason: 'load failed: boom', note: 'unloaded: x' })],
    ['failed + load-failed → failed with the new fingerprint', failed, loadFailed, life({ kind: 'failed', fingerprint: 'f2', reason: 'load failed: boom', note: 'n' })],
    [
      'reloading + load-failed → ready on the old generation, with the reload failure',
      reloading,
      loadFailed,
      life({ kind: 'ready', served: OLD, fingerprint: 'f1', reloading: false, reloadFailure: { fingerprint: 'f2', reason: `${RELOAD_FAILED}: load failed: boom`, cause: 'load failed: boom' } }),
    ],
    [
      'ready + load-failed (artifact missing at reload) → ready with the reload failure',
      ready,
      loadFailed,
      life({ kind: 'ready', served: OLD, fingerprint: 'f1', reloading: false, reloadFailure: { fingerprint: 'f2', reason: `${RELOAD_FAILED}: load failed: boom`, cause: 'load failed: boom' } }),
    ],
    // load-timed-out (the load in flight passed loadTimeoutMs and is abandoned)
    ['loading + load-timed-out → failed with the timeout reason', loading, timedOut, life({ kind: 'failed', fingerprint: 'f2', reason: TIMEOUT_REASON, note: 'n' })],
    ['loading, an old generation draining + load-timed-out → failed, still draining', life(loading.state, 1), timedOut, life({ kind: 'failed', fingerprint: 'f2', reason: TIMEOUT_REASON, note: 'n' }, 1)],
    [
      'reloading + load-timed-out → ready on the old generation, with the timeout as the reload failure',
      reloading,
      timedOut,
      life({ kind: 'ready', served: OLD, fingerprint: 'f1', reloading: false, reloadFailure: { fingerprint: 'f2', reason: `${RELOAD_FAILED}: ${TIMEOUT_REASON}`, cause: TIMEOUT_REASON } }),
    ],
    ['unloaded + load-timed-out (a stale timer): ignored', unloaded, timedOut, IGNORED],
    ['ready (not reloading) + load-timed-out: ignored', ready, timedOut, IGNORED],
    ['failed + load-timed-out (the load already failed): ignored', failed, timedOut, IGNORED],
    // refused
    ['unloaded + refused never → failed', unloaded, refusedNever, life({ kind: 'failed', fingerprint: 'f2', reason: 'too big', note: 'unloaded: x' })],
    ['unloaded + refused for room → dormant', unloaded, refusedRoom, life({ kind: 'unloaded', note: 'no room', dormant: true })],
    ['unloaded + refused busy → dormant', unloaded, refusedBusy, life({ kind: 'unloaded', note: 'busy', dormant: true })],
    ['failed + refused for room → dormant', failed, refusedRoom, life({ kind: 'unloaded', note: 'no room', dormant: true })],
    ['loading + refused: ignored', loading, refusedRoom, IGNORED],
    ['ready + refused: ignored', ready, refusedNever, IGNORED],
    // unload
    ['ready + unload → unloaded, one generation draining', ready, unload, life({ kind: 'unloaded', note: 'unloaded: gone', dormant: false }, 1)],
    ['ready + evict → dormant, one generation draining', ready, evict, life({ kind: 'unloaded', note: 'evicted: lru', dormant: true }, 1)],
    ['reloading + unload → loading (the reload goes on), one draining', reloading, unload, life({ kind: 'loading', note: 'unloaded: gone' }, 1)],
    ['ready with a failed reload + unload → failed (its files are known to fail)', reloadFailed, unload, life({ kind: 'failed', fingerprint: 'f2', reason: 'boom', note: 'unloaded: gone' }, 1)],
    ['unloaded + unload: ignored', unloaded, unload, IGNORED],
    ['loading + unload: ignored', loading, unload, IGNORED],
    ['failed + unload: ignored', failed, evict, IGNORED],
    // drain-ended
    ['draining 2 + drain-ended → 1', life(unloaded.state, 2), drained, life(unloaded.state, 1)],
    ['ready draining 1 + drain-ended → 0', life(ready.state, 1), drained, ready],
    ['nothing draining + drain-ended: ignored', unloaded, drained, IGNORED],
  ];

  it.each(table)('%s', (_name, before, event, expected) => {
    const after = apply(before, event);
    if (expected === IGNORED) expect(after).toBe(before);
    else {
      expect(after).not.toBe(before);
      expect(after).toEqual(expected);
    }
  });

  it('words the timeout with the bound it passed', () => {
    expect(loadTimeoutReason(600_000)).toBe(TIMEOUT_REASON);
    expect(loadTimeoutReason(2_500)).toMatch(/^load did not finish within 2500 ms \(loadTimeoutMs\)/);
  });

  it('never mutates the life it is given', () => {
    const before = structuredClone({ ...reloading, state: { ...reloading.state, served: undefined } });
    apply(reloading, loaded);
    expect({ ...reloading, state: { ...reloading.state, served: undefined } }).toEqual(before);
  });

  it('starts unloaded, with nothing draining', () => {
    expect(INITIAL_LIFE).toEqual({ state: { kind: 'unloaded', note: '', dormant: false }, draining: 0 });
  });
});

describe('what a life reads as', () => {
  const cases: [string, VersionLife, string | undefined, ReturnType<typeof phaseOf>][] = [
    ['ready', ready, 'f1', 'READY'],
    ['ready while reloading', reloading, 'f2', 'READY'],
    ['loading while an old generation drains', life(loading.state, 1), 'f1', 'LOADING'],
    ['unloaded, draining', life(unloaded.state, 1), 'f1', 'UNLOADING'],
    ['failed, draining', life(failed.state, 1), 'f1', 'UNLOADING'],
    ['failed with the files now there', failed, 'f1', 'FAILED'],
    ['failed, files changed since', failed, 'f9', 'UNLOADED'],
    ['unloaded', unloaded, 'f1', 'UNLOADED'],
  ];
  it.each(cases)('%s → %s', (_name, l, fingerprint, phase) => expect(phaseOf(l, fingerprint)).toBe(phase));

  it('serves, counts as resident, loads and idles by state', () => {
    expect([servedOf(ready), servedOf(loading), servedOf(unloaded)]).toEqual([OLD, undefined, undefined]);
    expect([ready, reloading, loading, unloaded, failed].map(isResident)).toEqual([true, true, true, false, false]);
    expect([ready, reloading, loading, unloaded, failed].map(isLoading)).toEqual([false, true, true, false, false]);
    expect([ready, loading, unloaded, life(unloaded.state, 1), failed].map(isIdle)).toEqual([false, false, true, false, true]);
  });

  it('is stale when ready and the files changed, unless a reload already failed with them', () => {
    expect(isStale(ready, 'f1')).toBe(false);
    expect(isStale(ready, 'f2')).toBe(true);
    expect(isStale(reloadFailed, 'f2')).toBe(false);
    expect(isStale(reloadFailed, 'f3')).toBe(true);
    expect(isStale(loading, 'f2')).toBe(false);
  });
});
