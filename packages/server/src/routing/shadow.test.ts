import { describe, expect, it } from 'vitest';
import type { InferRequest, InferResponse } from '@sibyl/protocol';
import type { Target } from '../config/endpoint-config.ts';
import type { RequestContext } from '../core/request-context.ts';
import { CancelToken } from '../core/cancellation.ts';
import { requestContext, rowsRequest, scores } from '../testing/policy-kit.ts';
import { Shadow } from './shadow.ts';

const config = { target: { model: 's' }, fraction: 0.5, maxInFlight: 1 };
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

describe('shadow', () => {
  it.each([
    [0.49, true],
    [0.5, false],
  ])('random %s against fraction 0.5: copied %s', async (draw, copied) => {
    const calls: { target: Target; request: InferRequest; context: RequestContext }[] = [];
    const shadow = new Shadow(config, () => draw, (target, request, context) => {
      calls.push({ target, request, context });
      return Promise.resolve(scores('s', [[0.9, 0.1]]));
    });
    const signal = new CancelToken();
    const context = requestContext({ requestId: 'r-5', signal });
    const answered = await shadow.around(rowsRequest(1), context, () => Promise.resolve(scores('m', [[0.8, 0.2]])));
    expect(answered.model_name).toBe('m');
    await settle();
    expect(calls).toHaveLength(copied ? 1 : 0);
    if (copied) {
      // The same request id and trace; not the caller's signal: a caller that goes does not cancel the copy.
      expect(calls[0]!.context).toEqual({ ...context, signal: undefined });
      expect(shadow.snapshot()).toMatchObject({ target: 's', sent: 1, compared: 1, rows: 1, sameTopClass: 1 });
    }
  });

  it('drops copies beyond maxInFlight and counts failures', async () => {
    let fail!: (err: Error) => void;
    const shadow = new Shadow(config, () => 0, () => new Promise<InferResponse>((_, reject) => (fail = reject)));
    const answer = (): Promise<InferResponse> => Promise.resolve(scores('m', [[1, 0]]));
    await shadow.around(rowsRequest(1), requestContext(), answer);
    await settle();
    await shadow.around(rowsRequest(1), requestContext(), answer);
    fail(new Error('shadow down'));
    await settle();
    expect(shadow.snapshot()).toMatchObject({ sent: 1, dropped: 1, failed: 1, compared: 0 });
  });
});
