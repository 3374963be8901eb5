// The lifecycle decisions as tables: snapshot in, transition out.
import { describe, expect, it } from 'vitest';
import { desiredVersions, nextTransition, type ModelSnapshot, type VersionPhase, type VersionSnapshot } from './lifecycle.ts';

/** `v(2, 'READY', 'desired')`: a version snapshot; flags: desired, dormant, stale. */
function v(version: number, phase: VersionPhase, ...flags: ('desired' | 'dormant' | 'stale')[]): VersionSnapshot {
  return { version, phase, desired: flags.includes('desired'), dormant: flags.includes('dormant'), stale: flags.includes('stale') };
}

function snap(versions: VersionSnapshot[], lastKnownGood?: number, present?: number[]): ModelSnapshot {
  return { versions, lastKnownGood, present: present ?? versions.map((x) => x.version) };
}

describe('desiredVersions', () => {
  it('is empty for a model that is not wanted', () => {
    expect([...desiredVersions({ wanted: false, policy: { kind: 'all' }, present: [1, 2], labelTargets: [1] })]).toEqual([]);
  });
  it('adds label targets that are present to the policy', () => {
    const d = desiredVersions({ wanted: true, policy: { kind: 'latest', count: 1 }, present: [1, 2, 3], labelTargets: [1, 9] });
    expect([...d].sort()).toEqual([1, 3]);
  });
  it('keeps the previous targets of labels loaded, for an instant rollback', () => {
    const d = desiredVersions({ wanted: true, policy: { kind: 'latest', count: 1 }, present: [1, 2, 3, 4], labelTargets: [3], rollbackTargets: [2, 8] });
    expect([...d].sort()).toEqual([2, 3, 4]);
  });
});

describe('nextTransition', () => {
  const table: { name: string; snapshot: ModelSnapshot; expected: ReturnType<typeof nextTransition> | { kind: string; version: number } }[] = [
    { name: 'nothing known, nothing to do', snapshot: snap([]), expected: undefined },
    { name: 'loads a desired version', snapshot: snap([v(1, 'UNLOADED', 'desired')]), expected: { kind: 'load', version: 1 } },
    {
      name: 'loads the newest desired version first',
      snapshot: snap([v(1, 'UNLOADED', 'desired'), v(2, 'UNLOADED', 'desired')]),
      expected: { kind: 'load', version: 2 },
    },
    { name: 'does not load a dormant version', snapshot: snap([v(1, 'UNLOADED', 'desired', 'dormant')]), expected: undefined },
    {
      name: 'hot swap, step 1: the new version loads while the old serves',
      snapshot: snap([v(1, 'READY'), v(2, 'UNLOADED', 'desired')]),
      expected: { kind: 'load', version: 2 },
    },
    {
      name: 'hot swap: the old version is kept while the new one is loading',
      snapshot: snap([v(1, 'READY'), v(2, 'LOADING', 'desired')]),
      expected: undefined,
    },
    {
      name: 'hot swap, step 2: the old version unloads once the new one is READY',
      snapshot: snap([v(1, 'READY'), v(2, 'READY', 'desired')]),
      expected: { kind: 'unload', version: 1 },
    },
    {
      name: 'a failed new version never replaces the good one',
      snapshot: snap([v(1, 'READY'), v(2, 'FAILED', 'desired')]),
      expected: undefined,
    },
    {
      name: 'the old version waits while another desired version is still loading',
      snapshot: snap([v(1, 'READY'), v(2, 'READY', 'desired'), v(3, 'LOADING', 'desired')]),
      expected: undefined,
    },
    {
      name: 'unloads the oldest surplus version first',
      snapshot: snap([v(1, 'READY'), v(2, 'READY'), v(3, 'READY', 'desired')]),
      expected: { kind: 'unload', version: 1 },
    },
    {
      name: 'an unwanted model unloads at once, oldest version first',
      snapshot: snap([v(1, 'READY'), v(2, 'READY')]),
      expected: { kind: 'unload', version: 1 },
    },
    {
      name: 'nothing desired while the model is wanted and its folder is there: what serves keeps serving',
      snapshot: { ...snap([v(1, 'READY')], undefined, []), holdWhenNothingDesired: true },
      expected: undefined,
    },
    { name: 'a draining version is left to drain', snapshot: snap([v(1, 'UNLOADING'), v(2, 'READY', 'desired')]), expected: undefined },
    { name: 'a READY stale version reloads', snapshot: snap([v(2, 'READY', 'desired', 'stale')]), expected: { kind: 'reload', version: 2 } },
    {
      name: 'loads come before reloads',
      snapshot: snap([v(2, 'READY', 'desired', 'stale'), v(1, 'UNLOADED', 'desired')]),
      expected: { kind: 'load', version: 1 },
    },
    {
      name: 'every desired version failed and nothing serves: the last known good loads',
      snapshot: snap([v(1, 'UNLOADED'), v(2, 'FAILED', 'desired')], 1),
      expected: { kind: 'load', version: 1 },
    },
    {
      name: 'the last known good loads even when the manager has no record of it yet',
      snapshot: snap([v(3, 'FAILED', 'desired')], 2, [2, 3]),
      expected: { kind: 'load', version: 2 },
    },
    {
      name: 'with no last known good (a first start), the newest other version that has not failed loads',
      snapshot: snap([v(1, 'UNLOADED'), v(2, 'FAILED'), v(3, 'FAILED', 'desired')]),
      expected: { kind: 'load', version: 1 },
    },
    {
      name: 'with no last known good, nothing left to try: nothing',
      snapshot: snap([v(1, 'FAILED'), v(2, 'FAILED', 'desired')]),
      expected: undefined,
    },
    {
      name: 'no fallback to a last known good whose files are gone',
      snapshot: snap([v(3, 'FAILED', 'desired')], 2, [3]),
      expected: undefined,
    },
    {
      name: 'no fallback to a last known good that failed too',
      snapshot: snap([v(1, 'FAILED'), v(2, 'FAILED', 'desired')], 1),
      expected: undefined,
    },
    {
      name: 'the fallback is kept while the desired version stays failed',
      snapshot: snap([v(1, 'READY'), v(2, 'FAILED', 'desired')], 1),
      expected: undefined,
    },
    {
      name: 'the fallback unloads once a newer desired version is READY',
      snapshot: snap([v(1, 'READY'), v(2, 'FAILED'), v(3, 'READY', 'desired')], 1),
      expected: { kind: 'unload', version: 1 },
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const t = nextTransition(row.snapshot);
      if (row.expected === undefined) expect(t).toBeUndefined();
      else expect(t).toMatchObject(row.expected);
    });
  }

  const held = (x: VersionSnapshot): VersionSnapshot => ({ ...x, routable: false });
  const signatureTable: { name: string; snapshot: ModelSnapshot; expected: { kind: string; version: number } | undefined }[] = [
    {
      name: 'an incompatible new version does not replace the version that takes the default traffic',
      snapshot: { ...snap([v(1, 'READY'), held(v(2, 'READY', 'desired'))]), signatureReference: 1 },
      expected: undefined,
    },
    {
      name: 'of several surplus versions, the newest routable one stays and the others unload',
      snapshot: { ...snap([v(1, 'READY'), v(2, 'READY'), held(v(3, 'READY', 'desired'))]), signatureReference: 2 },
      expected: { kind: 'unload', version: 1 },
    },
    {
      name: 'once a compatible desired version is READY, the old one unloads',
      snapshot: { ...snap([v(1, 'READY'), held(v(2, 'READY', 'desired')), v(3, 'READY', 'desired')]), signatureReference: 1 },
      expected: { kind: 'unload', version: 1 },
    },
    {
      name: 'a restart: only an incompatible version serves, so the reference version loads again',
      snapshot: { ...snap([v(1, 'UNLOADED'), held(v(2, 'READY', 'desired'))]), signatureReference: 1 },
      expected: { kind: 'load', version: 1 },
    },
    {
      name: 'a restart: the reference version is gone from the repository, nothing to load',
      snapshot: { ...snap([held(v(2, 'READY', 'desired'))], undefined, [2]), signatureReference: 1 },
      expected: undefined,
    },
    {
      name: 'a restart: the reference version failed to load, it is not tried again',
      snapshot: { ...snap([v(1, 'FAILED'), held(v(2, 'READY', 'desired'))]), signatureReference: 1 },
      expected: undefined,
    },
  ];
  for (const row of signatureTable) {
    it(row.name, () => {
      const t = nextTransition(row.snapshot);
      expect(t === undefined ? undefined : { kind: t.kind, version: t.version }).toEqual(row.expected);
    });
  }

  it('is idempotent: the same snapshot, the same answer', () => {
    const s = snap([v(1, 'READY'), v(2, 'READY', 'desired')]);
    expect(nextTransition(s)).toEqual(nextTransition(s));
  });
});
