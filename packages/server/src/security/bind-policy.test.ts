import { describe, expect, it } from 'vitest';
import { bindDecision, isLoopbackHost } from './bind-policy.ts';

describe('secure by default', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['192.168.1.10', false],
    ['example.com', false],
    ['128.0.0.1', false],
  ])('%s is loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it.each([
    ['127.0.0.1', false, false, 'loopback'],
    ['127.0.0.1', true, false, 'authenticated'],
    ['0.0.0.0', false, false, 'refused'],
    ['0.0.0.0', false, true, 'unauthenticated-allowed'],
    ['0.0.0.0', true, false, 'authenticated'],
    ['10.0.0.5', true, true, 'authenticated'],
  ] as const)('host %s, auth %s, allowUnauthenticated %s: %s', (host, auth, allow, decision) => {
    expect(bindDecision(host, auth, allow)).toBe(decision);
  });
});
