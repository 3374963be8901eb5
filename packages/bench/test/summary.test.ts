// The human outputs: the summary table (throughput, rows/s for batches, percentiles, counts,
// errors by status / reason / failure), progress lines with and without a terminal, and the
// configuration as results.json shows it.
import { describe, expect, it } from 'vitest';
import { describeConfig, resolveBenchConfig } from '../src/config.ts';
import { formatMs, formatProgress, useColor } from '../src/progress.ts';
import { Recorder } from '../src/recorder.ts';
import { buildResult } from '../src/result.ts';
import type { BenchResult } from '../src/result.ts';
import { formatSummary } from '../src/summary.ts';

function result(open: boolean, rowsPerRequest: number): BenchResult {
  const recorder = new Recorder(0, 2000);
  for (let i = 0; i < 100; i++) {
    const t = i * 10;
    if (open) recorder.onScheduledSent(t, i % 10 === 0 ? 5 : 0.5);
    else recorder.onSent(t);
    recorder.onResponse(t, t, t + 1 + (i % 10), 200, undefined, rowsPerRequest);
  }
  const err = (status: number, body: string): void => {
    recorder.onSent(1500);
    recorder.onResponse(1500, 1500, 1501, status, Buffer.from(body), rowsPerRequest);
  };
  err(503, '{"error":"queue of m v1 is full (64 waiting)","code":"UNAVAILABLE","reason":"QUEUE_FULL"}');
  err(503, '{"error":"queue of m v1 is full (64 waiting)","code":"UNAVAILABLE","reason":"QUEUE_FULL"}');
  err(503, 'upstream unavailable');
  err(400, '{"error":"input x has shape [1,3]; expected [1,4]","reason":"INPUT_SHAPE_MISMATCH"}');
  recorder.onSent(1600);
  recorder.onFailure(1600, 1700, 'ECONNRESET', 'the server closed the connection before the response was complete');
  if (open) recorder.onDropped(1800);
  const config = resolveBenchConfig(open ? { url: 'http://h:8000', model: 'm', ratePerSecond: 50 } : { url: 'http://h:8000', model: 'm', modelVersion: '2', concurrency: 8 });
  return buildResult(recorder.data(), {
    config: describeConfig(config),
    requests: { inputs: [{ name: 'x', datatype: 'FP32', shape: [rowsPerRequest, 4] }], distinct: 16, encoding: 'json', minBodyBytes: 140, maxBodyBytes: 146, rowsPerRequest },
    startedAt: new Date(0).toISOString(),
    interrupted: false,
    measuredSeconds: 2,
    connections: 8,
    workers: 1,
    openLoop: open,
  });
}

describe('summary', () => {
  it('shows throughput, percentiles, counts and errors by status, reason and failure', () => {
    const text = formatSummary(result(false, 1));
    expect(text).toContain('sibyl bench: http://h:8000  model m version 2');
    expect(text).toMatch(/closed loop, 8 connections; 2\.0 s measured after 2 s warm-up/);
    expect(text).toContain('16 distinct JSON bodies of 140 B–146 B: x FP32[1,4]');
    expect(text).toMatch(/requests\/s\s+52\.5\s+\(2xx: 50\.0\/s\)/); // 105 completions in 2 s
    expect(text).not.toContain('rows/s');
    expect(text).toMatch(/p50\s+p90\s+p95\s+p99\s+p99\.9\s+max\s+mean\n\s+5\.\d+\s+9\.\d+/);
    expect(text).toMatch(/sent\s+105\n\s+completed\s+105\n\s+2xx\s+100\n\s+HTTP errors\s+4\n\s+failures \(no response\)\s+1/);
    expect(text).toMatch(/HTTP 503\s+QUEUE_FULL\s+2\s+"queue of m v1 is full \(64 waiting\)"/);
    expect(text).toMatch(/HTTP 503\s+\(no reason\)\s+1\s+"upstream unavailable"/);
    expect(text).toMatch(/HTTP 400\s+INPUT_SHAPE_MISMATCH\s+1\s+"input x has shape/);
    expect(text).toMatch(/ECONNRESET\s+1\s+"the server closed the connection/);
    expect(text).not.toMatch(/not sent|late/);
  });

  it('adds rows/s for batches, and drops, late sends and send lag for the open loop', () => {
    const text = formatSummary(result(true, 8));
    expect(text).toMatch(/open loop, 50\.0 req\/s poisson arrivals, max 256 in flight/);
    expect(text).toMatch(/rows\/s\s+400\.0\s+\(8 rows per request\)/);
    expect(text).toMatch(/send lag behind schedule: p50 0\.50\d\s+p99 5\.00\s+max 5\.00/);
    expect(text).toMatch(/not sent: max in flight reached\s+1\n\s+sent late \(> 2 ms behind schedule\)\s+10/);
  });

  it('formats progress lines plainly, or with color on a terminal', () => {
    const p = { phase: 'measure' as const, elapsedSeconds: 3.02, requestsPerSecond: 12345.6, p99Ms: 4.567, errors: 2, inFlight: 64 };
    expect(formatProgress(p, false)).toBe('[   3s measure]    12,346 req/s  p99    4.57 ms  in flight   64  errors 2');
    expect(formatProgress(p, true)).toContain('\u001b[31merrors 2\u001b[39m');
    expect(formatProgress({ ...p, phase: 'warmup', p99Ms: NaN }, false)).toMatch(/warmup .* p99\s+- /);
    expect([formatMs(0.12345), formatMs(1.2345), formatMs(12.345), formatMs(123.45)]).toEqual(['0.123', '1.23', '12.3', '123']);
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
  });

  it('hides credentials in the configuration written to results.json', () => {
    const config = resolveBenchConfig({ url: 'http://h', model: 'm', headers: { Authorization: 'Bearer secret', 'X-Api-Key': 'k', 'X-Trace': 'on' } });
    expect(describeConfig(config).headers).toEqual({ Authorization: '<redacted>', 'X-Api-Key': '<redacted>', 'X-Trace': 'on' });
  });
});
