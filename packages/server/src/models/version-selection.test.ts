// The default route as a table: versions with their states, labels and signature verdicts in,
// the version unaddressed requests go to out.
import { describe, expect, it } from 'vitest';
import type { EffectiveLabel } from './labels.ts';
import type { ModelState } from './model-state.ts';
import { VersionRecord } from './version-record.ts';
import { defaultRoute } from './version-selection.ts';

/** `rec(2, 'READY', 'incompatible')`: a version record; `onDemand` loads on demand. */
function rec(version: number, state: ModelState, ...flags: ('incompatible' | 'onDemand')[]): VersionRecord {
  const r = new VersionRecord(version);
  r.setStatus({ state, reason: '', loadsOnDemand: flags.includes('onDemand') });
  if (flags.includes('incompatible')) r.incompatibility = 'signature incompatible with version 1: …';
  return r;
}

function route(records: VersionRecord[], stable?: number): number | undefined {
  const labels = new Map<string, EffectiveLabel>(stable === undefined ? [] : [['stable', { version: stable, source: 'api', history: [] }]]);
  return defaultRoute({ model: 'm', records: new Map(records.map((r) => [r.version, r])), labels, present: records.map((r) => r.version) })?.version;
}

describe('defaultRoute', () => {
  const table: [string, VersionRecord[], number | undefined, number | undefined][] = [
    ['the newest READY version', [rec(1, 'READY'), rec(2, 'READY')], undefined, 2],
    ['the stable label first', [rec(1, 'READY'), rec(2, 'READY')], 1, 1],
    ['not an incompatible version while a compatible one is READY', [rec(1, 'READY'), rec(2, 'READY', 'incompatible')], undefined, 1],
    ['a compatible version that loads on demand before an incompatible READY one', [rec(1, 'UNAVAILABLE', 'onDemand'), rec(2, 'READY', 'incompatible')], undefined, 1],
    ['the stable label names an incompatible version explicitly', [rec(1, 'READY'), rec(2, 'READY', 'incompatible')], 2, 2],
    ['an incompatible version when no compatible one can serve', [rec(1, 'UNAVAILABLE'), rec(2, 'READY', 'incompatible')], undefined, 2],
    ['nothing serves: the newest present', [rec(1, 'UNAVAILABLE'), rec(2, 'LOADING')], undefined, 2],
  ];
  it.each(table)('%s', (_name, records, stable, expected) => {
    expect(route(records, stable)).toBe(expected);
  });
});
