import { Writable } from 'node:stream';
import { SibylError } from '@sibyl/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ThrottledLog } from '../../observability/logging/throttled-log.ts';
import { ManualClock } from '../../testing/manual-clock.ts';
import { failWith, type GrpcHandlerDeps } from './call.ts';

describe('failWith', () => {
  it("rate-limits the lines a caller's repeated failures write: a burst, then one summary", () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
          done();
        },
      }),
    );
    const clock = new ManualClock();
    const lineLimiter = new ThrottledLog(log, clock, { burst: 3, windowMs: 1000, maxKeys: 10 });
    const deps = { log, lineLimiter } as unknown as GrpcHandlerDeps;
    for (let i = 0; i < 20; i++) {
      const status = failWith(deps, 'ModelInfer', new SibylError('RUNTIME_FAILED', `run ${i} failed`));
      expect(status.details).toBe(`run ${i} failed`); // every caller still gets its own answer
    }
    for (let i = 0; i < 5; i++) failWith(deps, 'ModelInfer', new SibylError('MODEL_NOT_FOUND', `no model ${i}`));
    clock.advance(1000);
    expect(lines.map((l) => l.msg)).toEqual([
      'run 0 failed',
      'run 1 failed',
      'run 2 failed',
      'no model 0',
      'no model 1',
      'no model 2',
      'suppressed 17 similar messages (grpc ModelInfer RUNTIME_FAILED) in 1000 ms',
      'suppressed 2 similar messages (grpc ModelInfer MODEL_NOT_FOUND) in 1000 ms',
    ]);
    expect(lines.slice(0, 3).every((l) => l.level === 50)).toBe(true);
    expect(lines.slice(3, 6).every((l) => l.level === 20)).toBe(true);
  });
});
