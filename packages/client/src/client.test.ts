// The client's call loop (attempts, deadlines, cancellation, fallback) over a scripted transport
// and a manual clock: which attempts happen, how long the client waits between them, and what
// the caller gets. The transports themselves are tested against real servers (test/).
import { describe, expect, it } from 'vitest';
import type { InferRequest, InferResponse } from '@sibyl/protocol';
import { SibylClient, inputBytes } from './client.ts';
import { ClientError } from './errors.ts';
import type { CallContext, InferenceTransport, InferWire } from './transport.ts';

type Step = InferResponse | ClientError | 'hang';

/** A transport that answers infer() with the scripted steps, one per attempt. */
function scripted(steps: Step[]) {
  const calls: { ctx: CallContext; wire: InferWire }[] = [];
  const transport = {
    kind: 'rest',
    target: 'test://server',
    infer: (_m: string, _v: string | undefined, _r: InferRequest, wire: InferWire, ctx: CallContext) => {
      calls.push({ ctx, wire });
      const step = steps.shift();
      if (step === undefined) throw new Error('no more steps');
      if (step === 'hang') return new Promise<InferResponse>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
      return step instanceof ClientError ? Promise.reject(step) : Promise.resolve(step);
    },
    close: () => {},
  } as unknown as InferenceTransport;
  return { transport, calls };
}

/** A manual clock: sleep() advances it at once and records the wait. */
function manualTime() {
  let now = 1_000_000;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
  };
}

const OK: InferResponse = { model_name: 'm', outputs: [] };
const REQUEST: InferRequest = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array([1]) }] };
const full = (retryAfterMs?: number) => new ClientError('RESOURCE_EXHAUSTED', 'QUEUE_FULL', 'queue full', { retryAfterMs });
const down = () => new ClientError('UNAVAILABLE', undefined, 'connection refused');

describe('retries', () => {
  it('retries UNAVAILABLE and RESOURCE_EXHAUSTED with jittered backoff, then answers', async () => {
    const { transport, calls } = scripted([down(), full(), OK]);
    const time = manualTime();
    const client = new SibylClient(transport, { ...time, random: () => 0.5, retry: { maxAttempts: 3, initialBackoffMs: 100 } });
    expect(await client.infer('m', REQUEST)).toBe(OK);
    expect(calls).toHaveLength(3);
    expect(time.waits).toEqual([50, 100]);
  });

  it('honours Retry-After', async () => {
    const { transport } = scripted([full(1500), OK]);
    const time = manualTime();
    await new SibylClient(transport, { ...time, random: () => 0.5 }).infer('m', REQUEST);
    expect(time.waits).toEqual([1500]);
  });

  it('gives up after maxAttempts with the last error, and never retries a bad request', async () => {
    const { transport, calls } = scripted([down(), down()]);
    const client = new SibylClient(transport, { ...manualTime(), retry: { maxAttempts: 2 } });
    await expect(client.infer('m', REQUEST)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'connection refused' });
    expect(calls).toHaveLength(2);
    const bad = scripted([new ClientError('INVALID_ARGUMENT', 'INPUT_SHAPE_MISMATCH', 'bad shape'), OK]);
    await expect(new SibylClient(bad.transport, manualTime()).infer('m', REQUEST)).rejects.toMatchObject({ reason: 'INPUT_SHAPE_MISMATCH' });
    expect(bad.calls).toHaveLength(1);
  });

  it('does not wait past the deadline: a Retry-After beyond it ends the call with the error', async () => {
    const { transport, calls } = scripted([full(5000), OK]);
    const time = manualTime();
    await expect(new SibylClient(transport, { ...time, timeoutMs: 1000 }).infer('m', REQUEST)).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect(calls).toHaveLength(1);
    expect(time.waits).toEqual([]);
  });
});

describe('deadlines and cancellation', () => {
  it('gives every attempt the one deadline of the call', async () => {
    const { transport, calls } = scripted([down(), OK]);
    const time = manualTime();
    await new SibylClient(transport, { ...time, random: () => 0, timeoutMs: 2000 }).infer('m', REQUEST);
    expect(calls.map((c) => c.ctx.deadlineMs)).toEqual([1_002_000, 1_002_000]);
  });

  it('fails with DEADLINE_EXCEEDED when no answer comes in time', async () => {
    const { transport } = scripted(['hang']);
    await expect(new SibylClient(transport, { timeoutMs: 20 }).infer('m', REQUEST)).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', reason: 'DEADLINE_EXCEEDED' });
  });

  it("fails with CANCELLED when the caller's signal aborts", async () => {
    const { transport } = scripted(['hang']);
    const controller = new AbortController();
    const call = new SibylClient(transport).infer('m', REQUEST, { signal: controller.signal });
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED', reason: 'REQUEST_CANCELLED' });
  });
});

describe('fallback', () => {
  const fallback: InferResponse = { model_name: 'm', outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: new Float32Array([0]) }] };

  it('answers with the fallback when the server cannot, after the retries', async () => {
    const { transport, calls } = scripted([down(), down()]);
    expect(await new SibylClient(transport, { ...manualTime(), retry: { maxAttempts: 2 } }).infer('m', REQUEST, { fallback })).toBe(fallback);
    expect(calls).toHaveLength(2);
  });

  it('passes the error to a fallback function', async () => {
    const { transport } = scripted([new ClientError('INTERNAL', 'RUNTIME_FAILED', 'boom')]);
    const seen: string[] = [];
    const answer = await new SibylClient(transport, manualTime()).infer('m', REQUEST, { fallback: (e) => (seen.push(`${e.code}/${e.reason}`), fallback) });
    expect(answer).toBe(fallback);
    expect(seen).toEqual(['INTERNAL/RUNTIME_FAILED']);
  });

  it('never hides errors of the request itself, nor a cancellation', async () => {
    const { transport } = scripted([new ClientError('NOT_FOUND', 'MODEL_NOT_FOUND', 'no such model')]);
    await expect(new SibylClient(transport, manualTime()).infer('m', REQUEST, { fallback })).rejects.toMatchObject({ reason: 'MODEL_NOT_FOUND' });
    const hang = scripted(['hang']);
    const controller = new AbortController();
    controller.abort();
    await expect(new SibylClient(hang.transport).infer('m', REQUEST, { fallback, signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('follows the error table: a model that failed to load is the server\'s (fallback answers), a body too large the caller\'s (thrown)', async () => {
    const broken = scripted([new ClientError('FAILED_PRECONDITION', 'MODEL_LOAD_FAILED', 'the model could not be loaded')]);
    expect(await new SibylClient(broken.transport, manualTime()).infer('m', REQUEST, { fallback })).toBe(fallback);
    const big = scripted([new ClientError('RESOURCE_EXHAUSTED', 'BODY_TOO_LARGE', 'too big', { status: 413 })]);
    await expect(new SibylClient(big.transport, manualTime()).infer('m', REQUEST, { fallback })).rejects.toMatchObject({ reason: 'BODY_TOO_LARGE' });
    expect(big.calls).toHaveLength(1); // not retried either
    // Another server's or a proxy's bare 413 (no reason in its body) is the caller's too.
    const proxied = scripted([new ClientError('RESOURCE_EXHAUSTED', undefined, 'HTTP 413', { status: 413, transport: 'rest' })]);
    await expect(new SibylClient(proxied.transport, manualTime()).infer('m', REQUEST, { fallback })).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED', reason: undefined });
    expect(proxied.calls).toHaveLength(1);
  });
});

describe('binary tensors for large inputs', () => {
  it('sends inputs of at least binaryThresholdBytes as binary, smaller ones as JSON, unless the call says', async () => {
    const { transport, calls } = scripted([OK, OK, OK]);
    const client = new SibylClient(transport, { binaryThresholdBytes: 16 });
    await client.infer('m', REQUEST);
    await client.infer('m', { inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: new Float32Array(4) }] });
    await client.infer('m', REQUEST, { binary: true });
    expect(calls.map((c) => c.wire.binary)).toEqual([false, true, true]);
  });

  it('counts BYTES elements with their length prefixes', () => {
    expect(inputBytes([{ name: 's', datatype: 'BYTES', shape: [2], data: [new Uint8Array(3), new Uint8Array(0)] }])).toBe(11);
  });
});
