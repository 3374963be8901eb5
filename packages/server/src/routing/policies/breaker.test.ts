import { describe, expect, it } from 'vitest';
import { breakerAdmits, breakerRecords, closedBreaker, describeBreaker, type BreakerState } from './breaker.ts';

const limits = { consecutiveFailures: 3, errorRate: 0.5, windowMs: 10_000, minRequests: 10, coolDownMs: 5000 };

function run(state: BreakerState, outcomes: boolean[], startMs = 0): BreakerState {
  return outcomes.reduce((s, ok, i) => breakerRecords(s, limits, startMs + i, ok, false), state);
}

describe('circuit breaker', () => {
  it('opens after N consecutive failures, refuses during the cool-down, then lets one probe through', () => {
    let s = run(closedBreaker(), [true, false, false]);
    expect(s.mode).toBe('closed');
    s = run(s, [false], 10);
    expect(s).toMatchObject({ mode: 'open', openedAtMs: 10 });
    expect(breakerAdmits(s, limits, 1000).admit).toBe(false);
    expect(describeBreaker(s, limits, 1000)).toBe('open (a probe in 4010 ms)');
    const probe = breakerAdmits(s, limits, 5010);
    expect(probe).toMatchObject({ admit: true, probe: true, state: { mode: 'half-open', probing: true } });
    expect(breakerAdmits(probe.state, limits, 5011).admit).toBe(false); // one probe at a time
    expect(breakerRecords(probe.state, limits, 5020, true, true).mode).toBe('closed');
    expect(breakerRecords(probe.state, limits, 5020, false, true)).toMatchObject({ mode: 'open', openedAtMs: 5020 });
  });

  it('opens on an error rate over the window once it has enough requests', () => {
    const alternating = Array.from({ length: 9 }, (_, i) => i % 2 === 0);
    const s = run(closedBreaker(), alternating); // 9 requests, 4 failures: too few requests
    expect(s.mode).toBe('closed');
    expect(run(s, [false], 9).mode).toBe('open'); // 10 requests, 5 failures: 50%
  });

  it('forgets outcomes older than the window', () => {
    const old = run(closedBreaker(), Array.from({ length: 9 }, (_, i) => i % 3 !== 0)); // 3 failures long ago
    const s = run(old, [false, true], 20_000);
    expect(s.mode).toBe('closed');
    expect(s.buckets.reduce((n, b) => n + b.requests, 0)).toBe(2);
  });
});
