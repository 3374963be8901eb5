// The generic executor: whatever the policy, the request's context reaches every target call
// unchanged, the response names the endpoint and the arm, outcomes and feedback land on the arm,
// and everything it did is in one snapshot.
import { describe, expect, it } from 'vitest';
import { SibylError, type InferRequest } from '@sibyl/protocol';
import pino from 'pino';
import { compileEndpointConfig, type Target } from '../config/endpoint-config.ts';
import type { RequestContext } from '../core/request-context.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { requestContext, rowsRequest, scores } from '../testing/policy-kit.ts';
import { Endpoint } from './endpoint.ts';
import { endpointReport } from './endpoint-report.ts';

function endpoint(document: unknown, fail: (t: Target) => boolean = () => false): { endpoint: Endpoint; calls: { target: Target; request: InferRequest; context: RequestContext }[] } {
  const calls: { target: Target; request: InferRequest; context: RequestContext }[] = [];
  const e = new Endpoint('e', compileEndpointConfig('e', document, 'test'), {}, {
    clock: new ManualClock(),
    random: () => 0.1,
    log: pino({ level: 'silent' }),
    run: (target, request, context) => {
      calls.push({ target, request, context });
      return fail(target) ? Promise.reject(new SibylError('RUNTIME_FAILED', 'down')) : Promise.resolve(scores(target.model, [[0.95, 0.05]]));
    },
    saveState: () => {},
    promote: () => Promise.resolve(''),
  });
  return { endpoint: e, calls };
}

describe('endpoint executor', () => {
  it.each([
    ['split', { split: { arms: [{ name: 'a', weight: 1, model: 'a' }, { name: 'b', weight: 1, model: 'b' }] } }, 'a', 1],
    ['cascade', { cascade: { stages: [{ model: 'small', threshold: 0.99 }, { model: 'large' }] } }, 'stage-2', 2],
    ['fallback', { target: { model: 'm' }, fallback: { target: { model: 'backup' } } }, 'default', 2],
  ])('%s: the context reaches all %s calls unchanged, and the response names endpoint and arm', async (_, document, variant, calls) => {
    const { endpoint: e, calls: seen } = endpoint(document, (t) => t.model === 'm');
    const context = requestContext({ requestId: 'r-42' });
    const response = await e.infer({ ...rowsRequest(1), id: 'q-1' }, context);
    expect(seen).toHaveLength(calls);
    for (const call of seen) expect(call.context).toBe(context);
    expect(response).toMatchObject({ id: 'q-1', parameters: { sibyl_endpoint: 'e', sibyl_variant: variant } });
    expect(e.feedback('q-1', true)).toBe(variant);
    expect(e.snapshot().arms.find((a) => a.arm === variant)!.stats).toMatchObject({ requests: 1, outcomes: 1, successes: 1 });
  });

  it('a shadow copy carries the context without the caller\'s signal', async () => {
    const { endpoint: e, calls } = endpoint({ target: { model: 'm' }, shadow: { target: { model: 's' }, fraction: 1 } });
    const context = requestContext({ signal: new AbortController().signal });
    await e.infer(rowsRequest(1), context);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.map((c) => c.target.model)).toEqual(['m', 's']);
    expect(calls[0]!.context).toBe(context);
    expect(calls[1]!.context).toEqual({ ...context, signal: undefined });
  });

  it('arms are listed in the policy\'s order, and the report reads the snapshot', () => {
    const { endpoint: e } = endpoint({ canary: { stable: { model: 'm', version: 1 }, candidate: { model: 'm', version: 2 }, stageDurationMs: 1000 } });
    expect(e.snapshot().arms.map((a) => a.arm)).toEqual(['stable', 'candidate']);
    const report = endpointReport(e, 'api');
    expect(Object.keys(report)).toEqual(['name', 'description', 'source', 'policy', 'config', 'arms', 'fallback', 'breakers', 'canary']);
    e.close();
  });

  it.each([
    [{ target: { model: 'm' } }, "endpoint 'e' has no canary; its policy is single", "endpoint 'e' is not blue-green; its policy is single"],
    [{ cascade: { stages: [{ model: 'a', threshold: 0.5 }, { model: 'b' }] } }, "endpoint 'e' has no canary; its policy is cascade", "endpoint 'e' is not blue-green; its policy is cascade"],
  ])('operator actions a policy does not have are refused (%j)', (document, canary, blueGreen) => {
    const { endpoint: e } = endpoint(document);
    expect(() => e.canaryAction('promote', 'x')).toThrow(canary);
    expect(() => e.switchTo('green')).toThrow(blueGreen);
    expect(e.answersByKey).toBe(false);
  });
});
