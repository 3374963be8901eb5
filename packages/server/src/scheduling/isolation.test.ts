// The isolation decision and the version health as tables, and bisection played out on a model of
// k bad requests among n: only the bad ones are blamed, at O(k log n) extra executions.
import { describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { FAILING_STREAK, NEW_VERSION_HEALTH, decideIsolation, errorKind, inputError, recordOutcome, versionFails, versionServes, withheldError, type FailedRun, type IsolationEvidence, type IsolationStep, type VersionHealth } from './isolation.ts';

const run = (members: number, first: boolean, error: 'input' | 'server' = 'server'): FailedRun => ({ members, first, error });
const serving: IsolationEvidence = { versionServes: true, versionFails: false, siblingSucceeded: false };
/** A version that has not answered anything yet. */
const unknown: IsolationEvidence = { versionServes: false, versionFails: false, siblingSucceeded: false };
const failing: IsolationEvidence = { versionServes: false, versionFails: true, siblingSucceeded: false };
const rescued: IsolationEvidence = { versionServes: false, versionFails: true, siblingSucceeded: true };
/** A version that has answered nothing yet and has a probe it has not run. */
const probing: IsolationEvidence = { ...unknown, probeAvailable: true };

const table: [string, FailedRun, IsolationEvidence, IsolationStep][] = [
  ['a failed batch splits in halves (the first half takes the odd one)', run(5, true), serving, { kind: 'split', at: 3 }],
  ['a failed half splits again while the version serves', run(4, false), serving, { kind: 'split', at: 2 }],
  ['a failing version still gets one probing split per batch', run(8, true), failing, { kind: 'split', at: 4 }],
  ['a failing version: a half that fails too is the server\'s fault', run(4, false), failing, { kind: 'blame-server' }],
  ['a version that has not answered yet bisects fully (a clean piece will give evidence)', run(2, false), unknown, { kind: 'split', at: 1 }],
  ['a lone request on a version that has not answered yet: the server, without a retry', run(1, true), unknown, { kind: 'blame-server' }],
  ['a member that failed alone, with no evidence the version answers anything: the server', run(1, false), unknown, { kind: 'blame-server' }],
  ['a half whose sibling succeeded splits: the version serves', run(4, false), rescued, { kind: 'split', at: 2 }],
  ['an error the runtime calls input splits even on a failing version', run(2, false, 'input'), failing, { kind: 'split', at: 1 }],
  ['a lone request that failed on its first run runs once more', run(1, true), serving, { kind: 'retry-alone' }],
  ['a lone request failing again alone while the version serves: its input', run(1, false), serving, { kind: 'blame-input' }],
  ['a lone request failing alone beside a successful sibling: its input', run(1, false), rescued, { kind: 'blame-input' }],
  ['a lone request on a failing version: the server, without a retry', run(1, true), failing, { kind: 'blame-server' }],
  ['a member that failed alone on a failing version: the server', run(1, false), failing, { kind: 'blame-server' }],
  ['an error the runtime calls input, alone: the input, without a retry', run(1, true, 'input'), failing, { kind: 'blame-input' }],
  ['a lone request on a version that has answered nothing, with a probe to run: the probe', run(1, true), probing, { kind: 'probe' }],
  ['a member that failed alone on a version that has answered nothing, with a probe: the probe', run(1, false), probing, { kind: 'probe' }],
  ['a batch on a version with a probe still splits (only a lone failure asks the probe)', run(4, true), probing, { kind: 'split', at: 2 }],
  ['an error the runtime calls input needs no probe', run(1, true, 'input'), probing, { kind: 'blame-input' }],
  ['a lone failure beside a successful sibling needs no probe', run(1, false), { ...probing, siblingSucceeded: true }, { kind: 'blame-input' }],
  ['a version known to fail is not probed: the server', run(1, true), { ...failing, probeAvailable: true }, { kind: 'blame-server' }],
  ['a version that serves is not probed: the lone request runs once more', run(1, true), { ...serving, probeAvailable: true }, { kind: 'retry-alone' }],
];

describe('decideIsolation', () => {
  it.each(table)('%s', (_name, failed, evidence, expected) => {
    expect(decideIsolation(failed, evidence)).toEqual(expected);
  });
});

describe('version health', () => {
  const after = (outcomes: boolean[]): VersionHealth => outcomes.reduce(recordOutcome, NEW_VERSION_HEALTH);
  const streak = (n: number): boolean[] => Array<boolean>(n).fill(false);
  const cases: [string, boolean[], { serves: boolean; fails: boolean }][] = [
    ['a new version, before any execution, is neither known to serve nor to fail', [], { serves: false, fails: false }],
    ['a version that never succeeded does not serve', [false, false], { serves: false, fails: false }],
    ['one that never succeeded fails after a full streak', streak(FAILING_STREAK), { serves: false, fails: true }],
    ['one success makes it serve', [true], { serves: true, fails: false }],
    ['failures short of the streak keep it serving', [true, ...streak(FAILING_STREAK - 1)], { serves: true, fails: false }],
    ['a full streak of failures makes it fail', [true, ...streak(FAILING_STREAK)], { serves: false, fails: true }],
    ['a success ends the streak', [true, ...streak(FAILING_STREAK), true], { serves: true, fails: false }],
  ];
  it.each(cases)('%s', (_name, outcomes, expected) => {
    const health = after(outcomes);
    expect({ serves: versionServes(health), fails: versionFails(health) }).toEqual(expected);
  });
});

/**
 * Plays the decision out on a version that serves: a run fails when it holds a bad member. Returns
 * the members blamed on their input and the extra executions made.
 */
function bisect(n: number, bad: ReadonlySet<number>): { blamed: number[]; extraRuns: number } {
  const blamed: number[] = [];
  let extraRuns = 0;
  let level: { members: number[]; first: boolean }[] = [{ members: Array.from({ length: n }, (_, i) => i), first: true }];
  while (level.length > 0) {
    const next: { members: number[]; first: boolean }[] = [];
    for (const piece of level) {
      const step = decideIsolation({ members: piece.members.length, first: piece.first, error: 'server' }, serving);
      if (step.kind === 'split') next.push({ members: piece.members.slice(0, step.at), first: false }, { members: piece.members.slice(step.at), first: false });
      else if (step.kind === 'retry-alone') next.push({ members: piece.members, first: false });
      else if (step.kind === 'blame-input') blamed.push(...piece.members);
      else throw new Error('a serving version blames its inputs');
    }
    extraRuns += next.length;
    level = next.filter((p) => p.members.some((m) => bad.has(m)));
  }
  return { blamed, extraRuns };
}

describe('bisection', () => {
  it.each([
    [64, [17]],
    [64, [0, 63]],
    [64, [3, 4, 5]],
    [7, [6]],
    [2, [0, 1]],
    [1000, [1, 500, 999]],
  ])('of %i requests with bad ones at %j blames exactly those, within 2k·log2(n) extra runs', (n, bad) => {
    const { blamed, extraRuns } = bisect(n, new Set(bad));
    expect(blamed.sort((a, b) => a - b)).toEqual(bad);
    expect(extraRuns).toBeLessThanOrEqual(2 * bad.length * Math.ceil(Math.log2(n)));
  });
});

describe('isolation errors', () => {
  const runtime = new SibylError('RUNTIME_FAILED', 'Gather: idx=77 out of range');
  it('a request blamed for its input gets 400 with the runtime\'s text of its own lone run', () => {
    const error = inputError("model 'm' version 1", runtime);
    expect(error).toMatchObject({ reason: 'INPUT_REJECTED_BY_MODEL', code: 'INVALID_ARGUMENT', httpStatus: 400, cause: runtime });
    expect(error.message).toMatch(/The runtime said: Gather: idx=77 out of range$/);
  });
  it('an error the runtime already calls the input\'s passes as it is', () => {
    const own = new SibylError('INPUT_DATA_MISMATCH', 'bad');
    expect(errorKind(own)).toBe('input');
    expect(errorKind(runtime)).toBe('server');
    expect(inputError('m', own)).toBe(own);
  });
  it('requests failing together get the reason but not the runtime\'s text (kept as the cause, for the log)', () => {
    const error = withheldError("model 'm' version 1", 3, runtime);
    expect(error).toMatchObject({ reason: 'RUNTIME_FAILED', cause: runtime });
    expect(error.message).not.toContain('77');
  });
});
