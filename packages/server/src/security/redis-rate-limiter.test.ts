// The Redis limiter without a Redis: it fails open (the request passes), says so through the
// rate_limiter component, and stops asking for a second. Against a real Redis: the contract, in
// test/integration/redis-rate-limiter.test.ts.
import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, expect, it, vi } from 'vitest';
import { ComponentHealth } from '../core/component-health.ts';
import { SettableClock } from '../testing/rate-limiter-contract.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';

const bucket = [{ key: 'k', limit: { ratePerSecond: 1, burst: 1 } }];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function listen(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

it('lets requests through while Redis is unreachable, degrades rate_limiter, and asks again only after a second', async () => {
  const { server, port } = await listen(() => {});
  await new Promise((resolve) => server.close(resolve)); // nothing listens there now
  const clock = new SettableClock(0);
  const health = new ComponentHealth(clock);
  const limiter = RedisRateLimiter.create({ url: `redis://user:s3cret@127.0.0.1:${port}`, keyPrefix: 'x:', timeoutMs: 50, clock, log: pino({ level: 'silent' }), health });
  cleanups.push(() => limiter.close());
  const first = limiter.take(bucket);
  expect(first).toBeInstanceOf(Promise);
  expect(await first).toEqual({ allowed: true, retryAfterMs: 0, refusedBy: -1 });
  expect(health.degraded()).toEqual([expect.objectContaining({ component: 'rate_limiter', reason: expect.stringMatching(/Redis/) })]);
  // Paused: answered at once, without a command.
  clock.timeMs = 999;
  expect(limiter.take(bucket)).toEqual({ allowed: true, retryAfterMs: 0, refusedBy: -1 });
  clock.timeMs = 1000;
  const retried = limiter.take(bucket);
  expect(retried).toBeInstanceOf(Promise);
  expect((await retried).allowed).toBe(true);
  // The connection's own error names the server, never its password.
  await vi.waitFor(() => expect(health.degraded()[0]!.reason).toMatch(/^Redis redis:/), { timeout: 5000, interval: 20 });
  expect(health.degraded()[0]!.reason).toContain(`redis://user:***@127.0.0.1:${port}`);
  expect(health.degraded()[0]!.reason).not.toContain('s3cret');
});

it('a Redis that accepts the connection and never answers costs a bounded wait, and the request passes', async () => {
  const sockets: Socket[] = [];
  const { server, port } = await listen((s) => sockets.push(s));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const clock = new SettableClock(0);
  const health = new ComponentHealth(clock);
  const limiter = RedisRateLimiter.create({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'x:', timeoutMs: 50, clock, log: pino({ level: 'silent' }), health });
  cleanups.push(() => limiter.close());
  await new Promise((resolve) => setTimeout(resolve, 50)); // connected, never ready
  const started = performance.now();
  expect((await limiter.take(bucket)).allowed).toBe(true);
  expect(performance.now() - started).toBeLessThan(1000);
  expect(health.isDegraded('rate_limiter')).toBe(true);
});
