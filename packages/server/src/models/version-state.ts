// The lifecycle of one model version as a value: a discriminated state, the generations still
// draining beside it, and ONE pure reducer `apply(life, event)` that every change goes through.
// The model manager decides what to do (lifecycle.ts nextTransition), performs it, and reports
// what happened as events; nothing else changes a version's state.
//
//   unloaded ──load-started──▶ loading ──loaded──▶ ready ──unload──▶ unloaded (+1 draining)
//      │  ▲                       │                  │ ▲
//      │  └─refused (room)        └─load-failed─▶ failed   load-started (a reload: the old
//      │                          └─load-timed-out─▶ failed
//      └─refused (never) ─────────────────────────▶ failed   generation serves meanwhile), then
//                                                             loaded (+1 draining: the old one)
//                                                             or load-failed (reloadFailure)
//
// Events that do not apply to the current state are ignored: `apply` returns the very same
// object (callers may test `next === life`). They are not errors because the paths that report
// them run concurrently (a drain ending, an eviction, a reload) and a stale report must not break
// the model; the table test lists each ignored pair explicitly.
//
// Every load is bounded (loadTimeoutMs): `load-timed-out` ends a load still running then, as a
// failure with the reason loadTimeoutReason gives. The load itself cannot be stopped (see
// version-load.ts); it is abandoned, and its late outcome is never reported here.
import type { ServedVersion } from './served-version.ts';
import type { VersionPhase } from './lifecycle.ts';

/** The start of a READY version's reason when its reload failed and its earlier load serves on. */
export const RELOAD_FAILED = 'reload with changed files or config failed, the earlier load keeps serving';

/** The failure reason of a load that passed its bound of `timeoutMs` (loadTimeoutMs) and was abandoned. */
export function loadTimeoutReason(timeoutMs: number): string {
  return `load did not finish within ${timeoutMs} ms (loadTimeoutMs) and was abandoned; its instances are closed if it ever finishes; raise loadTimeoutMs if the model needs longer to load and warm up`;
}

export type VersionState =
  /**
   * Nothing loaded: never loaded, unloaded or evicted. `note` says why (`unloaded: …`,
   * `evicted: …`, '' for never loaded); `dormant`: desired, but loaded only when a request asks
   * (evicted, or no room at start-up).
   */
  | { kind: 'unloaded'; note: string; dormant: boolean }
  /** Its first generation is loading (instances, warm-up, scheduler). `note` is kept from before. */
  | { kind: 'loading'; note: string }
  /**
   * A generation serves. `reloading`: a new generation with changed files is loading beside it.
   * `reloadFailure`: the last reload failed for files and config with that fingerprint.
   */
  | { kind: 'ready'; served: ServedVersion; fingerprint: string; reloading: boolean; reloadFailure?: ReloadFailure }
  /** Its last load failed for the files and config with `fingerprint` (retried when they change). */
  | { kind: 'failed'; fingerprint: string; reason: string; note: string };

/** A failed reload of a READY version: `reason` is its status text, `cause` the load's own. */
export interface ReloadFailure {
  fingerprint: string;
  reason: string;
  cause: string;
}

export interface VersionLife {
  readonly state: VersionState;
  /** Generations released (unloaded or replaced) whose requests are still draining. */
  readonly draining: number;
}

export type VersionEvent =
  /** A load (or, when ready, a reload) began. */
  | { type: 'load-started' }
  /** The load began by load-started finished: `served` is the new generation. */
  | { type: 'loaded'; served: ServedVersion; fingerprint: string }
  /** A load failed (or could not start: its artifact is missing) for files and config `fingerprint`. */
  | { type: 'load-failed'; fingerprint: string; reason: string }
  /**
   * The load in flight (a first load or a reload) passed its bound of `timeoutMs` and is
   * abandoned: a failure for `fingerprint` with loadTimeoutReason; ignored when no load runs.
   */
  | { type: 'load-timed-out'; fingerprint: string; timeoutMs: number }
  /**
   * Residency refused the load: `never` (it cannot fit at all: it fails until its files or config
   * change), else no room now (it waits, dormant, for a request).
   */
  | { type: 'refused'; fingerprint: string; reason: string; retry: 'never' | 'on-demand' | 'busy' }
  /** Stop routing to the generation that serves and drain it; `dormant` when evicted. */
  | { type: 'unload'; note: string; dormant?: boolean }
  /** A released generation finished draining. */
  | { type: 'drain-ended' };

export const INITIAL_LIFE: VersionLife = { state: { kind: 'unloaded', note: '', dormant: false }, draining: 0 };

/** The next life after `event`; the same object when the event does not apply (see above). */
export function apply(life: VersionLife, event: VersionEvent): VersionLife {
  const { state, draining } = life;
  switch (event.type) {
    case 'load-started':
      if (state.kind === 'unloaded' || state.kind === 'failed') return { state: { kind: 'loading', note: state.note }, draining };
      if (state.kind === 'ready' && !state.reloading) return { state: { ...state, reloading: true }, draining };
      return life;
    case 'loaded':
      if (state.kind === 'loading') return { state: { kind: 'ready', served: event.served, fingerprint: event.fingerprint, reloading: false }, draining };
      // A hot swap: the new generation serves at once and the old one drains.
      if (state.kind === 'ready' && state.reloading) return { state: { kind: 'ready', served: event.served, fingerprint: event.fingerprint, reloading: false }, draining: draining + 1 };
      return life;
    case 'load-failed': {
      if (state.kind === 'ready') {
        const { reloadFailure: _dropped, ...rest } = state;
        return { state: { ...rest, reloading: false, reloadFailure: { fingerprint: event.fingerprint, reason: `${RELOAD_FAILED}: ${event.reason}`, cause: event.reason } }, draining };
      }
      return { state: { kind: 'failed', fingerprint: event.fingerprint, reason: event.reason, note: state.note }, draining };
    }
    case 'load-timed-out':
      if (!isLoading(life)) return life;
      return apply(life, { type: 'load-failed', fingerprint: event.fingerprint, reason: loadTimeoutReason(event.timeoutMs) });
    case 'refused':
      if (state.kind !== 'unloaded' && state.kind !== 'failed') return life;
      if (event.retry === 'never') return { state: { kind: 'failed', fingerprint: event.fingerprint, reason: event.reason, note: state.note }, draining };
      return { state: { kind: 'unloaded', note: event.reason, dormant: true }, draining };
    case 'unload': {
      if (state.kind !== 'ready') return life;
      // A reload in flight goes on as a load (its version is no longer served meanwhile).
      if (state.reloading) return { state: { kind: 'loading', note: event.note }, draining: draining + 1 };
      // The files there now failed to reload: loading them again would fail again.
      const failed = state.reloadFailure;
      if (failed !== undefined) return { state: { kind: 'failed', fingerprint: failed.fingerprint, reason: failed.cause, note: event.note }, draining: draining + 1 };
      return { state: { kind: 'unloaded', note: event.note, dormant: event.dormant === true }, draining: draining + 1 };
    }
    case 'drain-ended':
      return draining === 0 ? life : { state, draining: draining - 1 };
  }
}

/**
 * The phase the lifecycle decisions see, given the fingerprint a load would have now: a failure
 * counts only while the files and config it failed with are still there.
 */
export function phaseOf(life: VersionLife, currentFingerprint: string | undefined): VersionPhase {
  const { state } = life;
  if (state.kind === 'ready') return 'READY';
  if (state.kind === 'loading') return 'LOADING';
  if (life.draining > 0) return 'UNLOADING';
  if (state.kind === 'failed' && state.fingerprint === currentFingerprint) return 'FAILED';
  return 'UNLOADED';
}

/** The generation requests go to, if any. */
export function servedOf(life: VersionLife): ServedVersion | undefined {
  return life.state.kind === 'ready' ? life.state.served : undefined;
}

/** Loaded or loading: counted against the residency limits. */
export function isResident(life: VersionLife): boolean {
  return life.state.kind === 'ready' || life.state.kind === 'loading';
}

/** A load is under way (a first load, or a reload beside the serving generation). */
export function isLoading(life: VersionLife): boolean {
  return life.state.kind === 'loading' || (life.state.kind === 'ready' && life.state.reloading);
}

/** Nothing loaded, loading or draining: the record may be forgotten once its folder is gone. */
export function isIdle(life: VersionLife): boolean {
  return life.state.kind !== 'ready' && life.state.kind !== 'loading' && life.draining === 0;
}

/**
 * READY, and its files or config changed since it loaded (and not to ones a reload already
 * failed with): it should reload.
 */
export function isStale(life: VersionLife, currentFingerprint: string | undefined): boolean {
  const { state } = life;
  return state.kind === 'ready' && state.fingerprint !== currentFingerprint && state.reloadFailure?.fingerprint !== currentFingerprint;
}
