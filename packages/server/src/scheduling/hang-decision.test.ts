import { describe, expect, it } from 'vitest';
import { decideHung, type InstanceProgress } from './hang-decision.ts';

const idle: InstanceProgress = { outstanding: 0, progressAtMs: 0 };
const busySince = (ms: number, outstanding = 1): InstanceProgress => ({ outstanding, progressAtMs: ms });

describe('decideHung', () => {
  it.each<[string, InstanceProgress[], number, number, { hung: number[]; nextCheckAtMs: number }]>([
    ['no instances', [], 100, 50, { hung: [], nextCheckAtMs: Infinity }],
    ['idle instances are never hung, however long idle', [idle, idle], 1e9, 50, { hung: [], nextCheckAtMs: Infinity }],
    ['busy within the timeout: check again when it would be due', [busySince(80)], 100, 50, { hung: [], nextCheckAtMs: 130 }],
    ['busy exactly the timeout: hung', [busySince(50)], 100, 50, { hung: [0], nextCheckAtMs: Infinity }],
    ['busy past the timeout: hung', [busySince(0, 2)], 100, 50, { hung: [0], nextCheckAtMs: Infinity }],
    ['one hung, one busy, one idle: next check is the busy one', [busySince(0), busySince(90), idle], 100, 50, { hung: [0], nextCheckAtMs: 140 }],
    ['the earliest due busy instance sets the next check', [busySince(95), busySince(60)], 100, 50, { hung: [], nextCheckAtMs: 110 }],
    ['0 turns the watchdog off', [busySince(0)], 1e9, 0, { hung: [], nextCheckAtMs: Infinity }],
    ['negative turns the watchdog off', [busySince(0)], 1e9, -1, { hung: [], nextCheckAtMs: Infinity }],
  ])('%s', (_name, instances, nowMs, timeoutMs, expected) => {
    expect(decideHung(instances, nowMs, timeoutMs)).toEqual(expected);
  });
});
