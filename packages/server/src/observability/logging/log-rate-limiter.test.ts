import { Writable } from 'node:stream';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/manual-clock.ts';
import { LogRateLimiter, OVERFLOW_KEY, type LogRateLimits } from './log-rate-limiter.ts';
import { routeProcessWarnings } from './process-warnings.ts';
import { ThrottledLog } from './throttled-log.ts';

const LIMITS: LogRateLimits = { burst: 2, windowMs: 1000, maxKeys: 2 };

type Step = [op: 'admit', key: string, atMs: number, expected: boolean] | [op: 'due' | 'due all', atMs: number, expected: [key: string, suppressed: number, fromMs: number, toMs: number][]];

const CASES: { name: string; steps: Step[] }[] = [
  {
    name: 'a key writes its burst, then is counted until its window ends',
    steps: [
      ['admit', 'a', 0, true],
      ['admit', 'a', 1, true],
      ['admit', 'a', 2, false],
      ['admit', 'a', 999, false],
      ['due', 999, []],
      ['due', 1000, [['a', 2, 0, 1000]]],
      ['admit', 'a', 1001, true],
    ],
  },
  {
    name: 'a window that suppressed nothing ends without a summary',
    steps: [
      ['admit', 'a', 0, true],
      ['admit', 'a', 500, true],
      ['due', 5000, []],
    ],
  },
  {
    name: 'a line after the window ends starts a new window and keeps the old summary for due',
    steps: [
      ['admit', 'a', 0, true],
      ['admit', 'a', 0, true],
      ['admit', 'a', 0, false],
      ['admit', 'a', 1500, true],
      ['admit', 'a', 1500, true],
      ['admit', 'a', 1500, false],
      ['due', 1600, [['a', 1, 0, 1000]]],
      ['due', 2500, [['a', 1, 1500, 2500]]],
    ],
  },
  {
    name: 'keys are limited apart',
    steps: [
      ['admit', 'a', 0, true],
      ['admit', 'a', 0, true],
      ['admit', 'a', 0, false],
      ['admit', 'b', 10, true],
      ['admit', 'b', 10, true],
      ['admit', 'b', 10, false],
      ['admit', 'b', 10, false],
      ['due', 1010, [['a', 1, 0, 1000], ['b', 2, 10, 1010]]],
    ],
  },
  {
    name: 'with the table full, new keys share the overflow key',
    steps: [
      ['admit', 'a', 0, true],
      ['admit', 'b', 0, true],
      ['admit', 'c', 0, true], // overflow, first line
      ['admit', 'd', 0, true], // overflow, second line
      ['admit', 'e', 0, false],
      ['admit', 'a', 0, true], // a still has its own window
      ['due', 1000, [[OVERFLOW_KEY, 1, 0, 1000]]],
    ],
  },
  {
    name: 'due(now, all) ends every window, at now',
    steps: [
      ['admit', 'a', 0, true],
      ['admit', 'a', 0, true],
      ['admit', 'a', 0, false],
      ['due all', 300, [['a', 1, 0, 300]]],
      ['admit', 'a', 301, true],
      ['admit', 'a', 301, true],
    ],
  },
];

describe('LogRateLimiter', () => {
  it.each(CASES)('$name', ({ steps }) => {
    const limiter = new LogRateLimiter(LIMITS);
    for (const step of steps) {
      if (step[0] === 'admit') expect([step[1], step[2], limiter.admit(step[1], step[2])]).toEqual([step[1], step[2], step[3]]);
      else expect(limiter.due(step[1], step[0] === 'due all').map((s) => [s.key, s.suppressed, s.fromMs, s.toMs])).toEqual(step[2]);
    }
  });

  it('holds at most maxKeys + 1 windows however many keys arrive', () => {
    const limiter = new LogRateLimiter({ burst: 1, windowMs: 1000, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) limiter.admit(`key ${i}`, 0);
    expect(limiter.size).toBe(101);
    expect(limiter.due(1000)).toEqual([{ key: OVERFLOW_KEY, suppressed: 9899, fromMs: 0, toMs: 1000 }]);
  });

  it('refuses limits that would write nothing', () => {
    expect(() => new LogRateLimiter({ burst: 0, windowMs: 1000, maxKeys: 1 })).toThrow(/burst ≥ 1/);
  });
});

function capture(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level }, stream), lines };
}

describe('ThrottledLog', () => {
  it('writes a burst per key, then one summary when the window ends, on the clock', () => {
    const clock = new ManualClock();
    const { log, lines } = capture();
    const throttled = new ThrottledLog(log, clock, LIMITS);
    for (let i = 0; i < 50; i++) throttled.write(log.child({ requestId: `r${i}` }), 'error', 'http RUNTIME_FAILED /v2/models/:model/infer', { i }, `run failed ${i}`);
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
      ['run failed 0', 'r0'],
      ['run failed 1', 'r1'],
    ]);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1000);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ level: 40, logKey: 'http RUNTIME_FAILED /v2/models/:model/infer', suppressed: 48, msg: 'suppressed 48 similar messages (http RUNTIME_FAILED /v2/models/:model/infer) in 1000 ms' });
    expect(clock.pendingTimers).toBe(0); // nothing open, no timer
  });

  it('does not count lines of a level that is off', () => {
    const clock = new ManualClock();
    const { log, lines } = capture('info');
    const throttled = new ThrottledLog(log, clock, LIMITS);
    for (let i = 0; i < 5; i++) throttled.write(log, 'debug', 'k', {}, 'quiet');
    throttled.close();
    expect(lines).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('close reports open windows and stops the timer', () => {
    const clock = new ManualClock();
    const { log, lines } = capture();
    const throttled = new ThrottledLog(log, clock, LIMITS);
    for (let i = 0; i < 3; i++) throttled.write(log, 'warn', 'k', {}, 'm');
    clock.advance(250);
    throttled.close();
    expect(lines.map((l) => l.msg)).toEqual(['m', 'm', 'suppressed 1 similar messages (k) in 250 ms']);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('routeProcessWarnings', () => {
  it("replaces the process's warning listeners with JSON log lines, and puts them back", () => {
    const proc = new EventEmitter();
    const printed: Error[] = [];
    const nodePrinter = (w: Error) => printed.push(w);
    proc.on('warning', nodePrinter);
    const { log, lines } = capture();
    const undo = routeProcessWarnings(proc, log);
    const warning = Object.assign(new Error('Buffer() is deprecated'), { name: 'DeprecationWarning', code: 'DEP0005' });
    proc.emit('warning', warning);
    expect(printed).toEqual([]);
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: 'DeprecationWarning [DEP0005]: Buffer() is deprecated', warning: expect.objectContaining({ name: 'DeprecationWarning', code: 'DEP0005' }) })]);
    undo();
    expect(proc.listeners('warning')).toEqual([nodePrinter]);
  });

  it('rate-limits a repeated warning through the throttle', () => {
    const proc = new EventEmitter();
    const clock = new ManualClock();
    const { log, lines } = capture();
    const throttled = new ThrottledLog(log, clock, LIMITS);
    const undo = routeProcessWarnings(proc, log, throttled);
    for (let i = 0; i < 5; i++) proc.emit('warning', Object.assign(new Error('too many listeners'), { name: 'MaxListenersExceededWarning' }));
    clock.advance(1000);
    undo();
    expect(lines.map((l) => l.msg)).toEqual(['MaxListenersExceededWarning: too many listeners', 'MaxListenersExceededWarning: too many listeners', 'suppressed 3 similar messages (process warning MaxListenersExceededWarning) in 1000 ms']);
  });
});
