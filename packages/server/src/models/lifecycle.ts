// The lifecycle decisions of one model, as pure functions of a snapshot (TF Serving's aspired
// versions and AvailabilityPreservingPolicy): which versions should be loaded, and the next
// transition that moves the loaded versions towards them. The model manager performs the
// transition, takes a new snapshot and asks again until the answer is "nothing".
import type { VersionPolicy } from '../config/model-config.ts';
import { selectVersions } from '../repository/version-policy.ts';

/** What a version is doing, as the decisions see it. */
export type VersionPhase =
  /** Nothing loaded (never loaded, unloaded, or evicted). */
  | 'UNLOADED'
  | 'LOADING'
  | 'READY'
  /** Draining before its instances are freed; takes no new requests. */
  | 'UNLOADING'
  /** Its last load failed, and its files and config have not changed since. */
  | 'FAILED';

export interface VersionSnapshot {
  version: number;
  phase: VersionPhase;
  /** The version policy or a label wants it loaded (see desiredVersions). */
  desired: boolean;
  /**
   * Desired, but loaded only when a request asks for it: evicted by the residency limit, or
   * beyond it at start-up. Reconciliation does not load a dormant version.
   */
  dormant: boolean;
  /** READY, but its model file or the model's config changed since it loaded. */
  stale: boolean;
  /**
   * False for a version whose signature is incompatible with the one the model's default traffic
   * is served with (and not accepted): it serves requests that name it, but it does not replace
   * the version that takes the default traffic. Default true.
   */
  routable?: boolean;
}

export interface ModelSnapshot {
  versions: readonly VersionSnapshot[];
  /**
   * The newest version that was READY while desired (persisted). When every desired version
   * fails, it is loaded again so that the model keeps serving.
   */
  lastKnownGood: number | undefined;
  /** Versions in the repository now (a fallback must still have its files). */
  present: readonly number[];
  /**
   * When nothing is desired, keep what serves: the model is wanted and its folder is there, so
   * an empty selection is a moment between a deploy's steps (a scan that saw the old version go
   * before the new one came) or a policy naming missing versions, not a request to stop serving.
   */
  holdWhenNothingDesired?: boolean;
  /**
   * The version whose signature the default traffic is served with (see ManagedModel): when every
   * desired READY version is incompatible with it and nothing compatible serves (a restart), it is
   * loaded again to take the default traffic.
   */
  signatureReference?: number;
}

export type Transition =
  | { kind: 'load'; version: number; reason: string }
  /** Load a new generation of a READY version, switch to it, then drain the old one. */
  | { kind: 'reload'; version: number; reason: string }
  | { kind: 'unload'; version: number; reason: string };

/**
 * The versions that should be loaded: nothing when the model is not wanted (explicit mode, not
 * loaded), else what the version policy selects from the versions present, plus the versions
 * labels point at (a label must be able to answer) and the ones labels pointed at just before
 * (so that a rollback switches at once, to a loaded version).
 */
export function desiredVersions(input: {
  wanted: boolean;
  policy: VersionPolicy;
  present: readonly number[];
  labelTargets: readonly number[];
  /** The previous target of each label moved through the API. */
  rollbackTargets?: readonly number[];
}): Set<number> {
  if (!input.wanted) return new Set();
  const desired = new Set(selectVersions(input.policy, input.present));
  for (const v of [...input.labelTargets, ...(input.rollbackTargets ?? [])]) if (input.present.includes(v)) desired.add(v);
  return desired;
}

const newestFirst = (a: VersionSnapshot, b: VersionSnapshot): number => b.version - a.version;

/**
 * The next step, or undefined when the loaded versions are where they should be. Availability is
 * preserved: a version that is no longer desired is unloaded only once a desired version is READY
 * and no other desired version is still on its way, so a failed load never replaces a good one.
 * Stateless and idempotent: the same snapshot always gives the same answer.
 */
export function nextTransition(snapshot: ModelSnapshot): Transition | undefined {
  const versions = [...snapshot.versions].sort(newestFirst);
  const desired = versions.filter((v) => v.desired);
  const pending = desired.filter((v) => (v.phase === 'UNLOADED' && !v.dormant) || v.phase === 'LOADING');

  // 1. Load what is desired and not loaded, newest first, so the newest serves soonest.
  const toLoad = desired.find((v) => v.phase === 'UNLOADED' && !v.dormant);
  if (toLoad !== undefined) return { kind: 'load', version: toLoad.version, reason: 'desired and not loaded' };

  // 2. Reload a READY version whose files or config changed (its old generation serves meanwhile).
  const stale = desired.find((v) => v.phase === 'READY' && v.stale);
  if (stale !== undefined) return { kind: 'reload', version: stale.version, reason: 'its model file or config changed' };

  const anyReady = versions.some((v) => v.phase === 'READY');
  const anyLoading = versions.some((v) => v.phase === 'LOADING');

  // 3. Every desired version failed and nothing serves: fall back to the last known good
  // version, or, with none known (a first start), to the newest other version present that has
  // not failed.
  if (desired.length > 0 && !anyReady && !anyLoading && desired.every((v) => v.phase === 'FAILED')) {
    const fallback = fallbackVersion(snapshot, versions);
    if (fallback !== undefined) return { kind: 'load', version: fallback.version, reason: fallback.reason };
  }

  const routable = (v: VersionSnapshot): boolean => v.routable !== false;
  const desiredReady = desired.filter((v) => v.phase === 'READY');
  const routableReady = desiredReady.filter(routable);

  // 3b. Every desired READY version is incompatible with the signature the default traffic is
  // served with, and nothing compatible serves (a restart after an incompatible version came):
  // load the version that served it, so that the default traffic keeps its signature.
  const reference = snapshot.signatureReference;
  if (reference !== undefined && desiredReady.length > 0 && routableReady.length === 0 && !anyLoading && !versions.some((v) => v.phase === 'READY' && routable(v))) {
    const phase = versions.find((v) => v.version === reference)?.phase ?? 'UNLOADED';
    if (phase === 'UNLOADED' && snapshot.present.includes(reference)) {
      return { kind: 'load', version: reference, reason: `it takes the default traffic: the desired versions' signatures are incompatible with it` };
    }
  }

  // 4. Unload what is no longer desired, once that cannot cost availability. While no desired
  // version can take the default traffic (their signatures are incompatible), the newest
  // version that can keeps it and stays loaded.
  const surplus = versions.filter((v) => !v.desired && v.phase === 'READY').reverse();
  if (surplus.length > 0) {
    if (desired.length === 0) {
      if (snapshot.holdWhenNothingDesired === true) return undefined;
      return { kind: 'unload', version: surplus[0]!.version, reason: 'no longer desired' };
    }
    if (desiredReady.length > 0 && pending.length === 0) {
      const keep = routableReady.length === 0 ? surplus.filter(routable).at(-1) : undefined;
      const victim = surplus.find((v) => v !== keep);
      if (victim !== undefined) return { kind: 'unload', version: victim.version, reason: `replaced by version ${(routableReady[0] ?? desiredReady[0])!.version}` };
    }
  }
  return undefined;
}

/** The version to load when every desired version failed, or undefined when none can be tried. */
function fallbackVersion(snapshot: ModelSnapshot, versions: readonly VersionSnapshot[]): { version: number; reason: string } | undefined {
  const untried = (v: number): boolean => snapshot.present.includes(v) && (versions.find((s) => s.version === v)?.phase ?? 'UNLOADED') === 'UNLOADED';
  const lkg = snapshot.lastKnownGood;
  if (lkg !== undefined) {
    return untried(lkg) ? { version: lkg, reason: `every desired version failed to load; falling back to the last known good version ${lkg}` } : undefined;
  }
  const newest = [...snapshot.present].sort((a, b) => b - a).find((v) => !versions.some((s) => s.version === v && s.desired) && untried(v));
  return newest === undefined ? undefined : { version: newest, reason: `every desired version failed to load and no version is known good; falling back to version ${newest}` };
}
