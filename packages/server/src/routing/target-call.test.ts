// The guarded target call: breaker and fallback around the model call. Why the fallback answered
// comes from what happened (breaker refused, the fallback's own timer, a failure), never from an
// error's text; the request's context reaches every call unchanged.
import { describe, expect, it } from 'vitest';
import { SibylError, type InferRequest, type InferResponse } from '@sibyl/protocol';
import { compileEndpointConfig, type Target } from '../config/endpoint-config.ts';
import type { RequestContext } from '../core/request-context.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { requestContext, rowsRequest, scores } from '../testing/policy-kit.ts';
import { TargetCaller } from './target-call.ts';

type Script = (target: Target, request: InferRequest, context: RequestContext) => Promise<InferResponse>;

function caller(document: unknown, script: Script): { caller: TargetCaller; clock: ManualClock; contexts: RequestContext[] } {
  const clock = new ManualClock();
  const contexts: RequestContext[] = [];
  const config = compileEndpointConfig('e', document, 'test');
  return {
    clock,
    contexts,
    caller: new TargetCaller(config, clock, (t, r, c) => {
      contexts.push(c);
      return script(t, r, c);
    }),
  };
}

const primary = { model: 'm', version: 1 };
const backup = { model: 'b' };
const fails = (reason: 'RUNTIME_FAILED' | 'DEADLINE_EXCEEDED' | 'INPUT_DATA_MISMATCH'): Script => (t) =>
  t.model === 'm' ? Promise.reject(new SibylError(reason, 'it took longer than the fallback\'s timeoutMs, says the message')) : Promise.resolve(scores('b', [[1, 0]]));

describe('guarded target call', () => {
  it.each([
    ['RUNTIME_FAILED', 'failed'],
    // The target's own deadline is a failure, whatever its message says: only the fallback's timer is a timeout.
    ['DEADLINE_EXCEEDED', 'failed'],
  ] as const)('a target that fails with %s is answered for by the fallback model (%s)', async (reason, cause) => {
    const { caller: c, contexts } = caller({ target: primary, fallback: { target: backup } }, fails(reason));
    const context = requestContext();
    const request = rowsRequest(1);
    const outcome = await c.call(primary, request, context, request.inputs);
    expect(outcome.response.model_name).toBe('b');
    expect(outcome.fallback).toMatch(/^m:1 failed: /);
    expect(contexts).toEqual([context, context]);
    expect(contexts[1]).toBe(context);
    expect(c.snapshot().fallback).toEqual({ answered: 1, byReason: [{ reason: cause, count: 1 }] });
  });

  it('the fallback\'s own timer is a timeout; the target gets the context with a signal the timer cancels', async () => {
    const { caller: c, clock, contexts } = caller({ target: primary, fallback: { target: backup, timeoutMs: 50 } }, (t) =>
      t.model === 'm' ? new Promise<never>(() => {}) : Promise.resolve(scores('b', [[1, 0]])),
    );
    const context = requestContext({ requestId: 'r-9' });
    const request = rowsRequest(1);
    const pending = c.call(primary, request, context, request.inputs);
    clock.advance(50);
    const outcome = await pending;
    expect(outcome.fallback).toContain("took longer than the fallback's timeoutMs (50 ms)");
    expect(contexts[0]).toMatchObject({ requestId: 'r-9', signal: { aborted: true } });
    expect(contexts[1]).toBe(context);
    expect(c.snapshot().fallback.byReason).toEqual([{ reason: 'timeout', count: 1 }]);
  });

  it('an open breaker is answered for without calling the target, and counted as breaker open', async () => {
    const { caller: c, contexts } = caller({ target: primary, fallback: { target: backup }, breaker: { consecutiveFailures: 2 } }, fails('RUNTIME_FAILED'));
    for (let i = 0; i < 3; i++) {
      const request = rowsRequest(1);
      await c.call(primary, request, requestContext(), request.inputs);
    }
    // Two calls reached the target, three the fallback: the third request never reached the target.
    expect(contexts).toHaveLength(5);
    expect(c.snapshot()).toEqual({
      fallback: { answered: 3, byReason: [{ reason: 'failed', count: 2 }, { reason: 'breaker open', count: 1 }] },
      breakers: [{ target: 'm:1', mode: 'open' }],
    });
  });

  it('the caller\'s errors pass through untouched and do not count against the target', async () => {
    const { caller: c } = caller({ target: primary, fallback: { target: backup }, breaker: { consecutiveFailures: 1 } }, fails('INPUT_DATA_MISMATCH'));
    const request = rowsRequest(1);
    await expect(c.call(primary, request, requestContext(), request.inputs)).rejects.toMatchObject({ reason: 'INPUT_DATA_MISMATCH' });
    expect(c.snapshot()).toEqual({ fallback: { answered: 0, byReason: [] }, breakers: [{ target: 'm:1', mode: 'closed' }] });
  });

  it('without a fallback, the target\'s error and the open breaker\'s refusal reach the caller', async () => {
    const { caller: c } = caller({ target: primary, breaker: { consecutiveFailures: 1 } }, fails('RUNTIME_FAILED'));
    await expect(c.call(primary, rowsRequest(1), requestContext(), undefined)).rejects.toMatchObject({ reason: 'RUNTIME_FAILED' });
    await expect(c.call(primary, rowsRequest(1), requestContext(), undefined)).rejects.toThrow(/circuit breaker of m:1 is open.*no fallback/);
  });
});
