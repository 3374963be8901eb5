// BenchResult: everything a run measured, as plain JSON-friendly data (what --output writes),
// computed from the recorders' tallies. Latencies are in milliseconds, rates per second.
import type { SparseHistogram } from './histogram.ts';
import { fromSparse, percentileOf, toSparse } from './histogram.ts';
import type { HistogramData } from './histogram.ts';
import type { RecorderData, ReasonTally, StatusTally } from './recorder.ts';
import type { InputSpec } from './request-builder.ts';

export interface LatencySummary {
  /** Successful responses the figures describe. */
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export interface TimelineEntry {
  /** Start of this interval, seconds after the measurement window opened. */
  startSeconds: number;
  /** Length of the interval (1, or less for the last one of a fractional duration). */
  seconds: number;
  /** Completions (responses of any status, and failures) per second. */
  requestsPerSecond: number;
  okPerSecond: number;
  rowsPerSecond: number;
  completed: number;
  ok: number;
  httpErrors: number;
  failures: number;
  sent: number;
  dropped: number;
  late: number;
  /** Latency of the interval's successful responses; null when there were none. */
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface BenchResult {
  /** The validated configuration (see describeConfig). */
  config: Record<string, unknown>;
  /** What was sent: the resolved inputs (undefined when requests were given), bodies, rows. */
  requests: {
    inputs: InputSpec[] | undefined;
    distinct: number;
    encoding: 'json' | 'binary';
    minBodyBytes: number;
    maxBodyBytes: number;
    /** Mean rows (batch items) per request; 1 when the model does not batch. */
    rowsPerRequest: number;
  };
  /** ISO time when the load started (warm-up included). */
  startedAt: string;
  /** The run was stopped early (signal); figures cover the part measured. */
  interrupted: boolean;
  /** Length of the measurement window in seconds. */
  measuredSeconds: number;
  /** Connections opened (closed loop: concurrency; open loop: as many as were needed). */
  connections: number;
  /** Worker threads that generated the load (1: the calling thread). */
  workers: number;
  counts: {
    /** Requests sent in the window. */
    sent: number;
    /** Of those, completed with a response of any status or a failure. */
    completed: number;
    ok: number;
    httpErrors: number;
    failures: number;
    /** Open loop: scheduled but not sent (max-in-flight reached). */
    dropped: number;
    /** Open loop: sent more than 2 ms after their scheduled time. */
    late: number;
  };
  throughput: {
    /** Completions (any status) per second: what wrk calls Requests/sec. */
    requestsPerSecond: number;
    /** Successful (2xx) responses per second. */
    okPerSecond: number;
    /** Rows (batch items) of successful responses per second. */
    rowsPerSecond: number;
  };
  /** Latency from write to full response of successful responses. */
  latency: LatencySummary;
  /** Open loop: delay between each request's scheduled and actual send; undefined for closed loop. */
  sendLag: LatencySummary | undefined;
  errors: {
    /** Non-2xx responses by status, then by the `reason` of the JSON error body ('' for none). */
    byStatus: Record<string, StatusTally>;
    /** Requests that got no response, by failure (ECONNREFUSED, ECONNRESET, TIMEOUT, PROTOCOL, …). */
    byFailure: Record<string, ReasonTally>;
  };
  timeline: TimelineEntry[];
  /** The latency histogram (non-empty buckets; values in ns) for later merging or re-analysis. */
  latencyHistogram: SparseHistogram;
}

const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3; // ns → ms, µs precision

export function summarizeLatency(h: HistogramData): LatencySummary {
  if (h.count === 0) return { count: 0, minMs: NaN, meanMs: NaN, p50Ms: NaN, p90Ms: NaN, p95Ms: NaN, p99Ms: NaN, p999Ms: NaN, maxMs: NaN };
  return {
    count: h.count,
    minMs: ms(h.minNs),
    meanMs: ms(h.sumNs / h.count),
    p50Ms: ms(percentileOf(h, 50)),
    p90Ms: ms(percentileOf(h, 90)),
    p95Ms: ms(percentileOf(h, 95)),
    p99Ms: ms(percentileOf(h, 99)),
    p999Ms: ms(percentileOf(h, 99.9)),
    maxMs: ms(h.maxNs),
  };
}

export interface ResultContext {
  config: Record<string, unknown>;
  requests: BenchResult['requests'];
  startedAt: string;
  interrupted: boolean;
  measuredSeconds: number;
  connections: number;
  workers: number;
  openLoop: boolean;
}

export function buildResult(data: RecorderData, ctx: ResultContext): BenchResult {
  const seconds = Math.max(ctx.measuredSeconds, 1e-9);
  const completed = data.ok + data.httpErrors + data.failures;
  const timeline = data.seconds.map((s, i): TimelineEntry => {
    const length = Math.min(1, Math.max(1e-9, ctx.measuredSeconds - i));
    const h = fromSparse(s.latency);
    const empty = h.count === 0;
    return {
      startSeconds: i,
      seconds: length,
      requestsPerSecond: s.completed / length,
      okPerSecond: s.ok / length,
      rowsPerSecond: s.rows / length,
      completed: s.completed,
      ok: s.ok,
      httpErrors: s.httpErrors,
      failures: s.failures,
      sent: s.sent,
      dropped: s.dropped,
      late: s.late,
      p50Ms: empty ? null : ms(h.percentileNs(50)),
      p99Ms: empty ? null : ms(h.percentileNs(99)),
      maxMs: empty ? null : ms(h.maxNs),
    };
  });
  return {
    config: ctx.config,
    requests: ctx.requests,
    startedAt: ctx.startedAt,
    interrupted: ctx.interrupted,
    measuredSeconds: ctx.measuredSeconds,
    connections: ctx.connections,
    workers: ctx.workers,
    counts: { sent: data.sent, completed, ok: data.ok, httpErrors: data.httpErrors, failures: data.failures, dropped: data.dropped, late: data.late },
    throughput: { requestsPerSecond: completed / seconds, okPerSecond: data.ok / seconds, rowsPerSecond: data.rows / seconds },
    latency: summarizeLatency(data.latency),
    sendLag: ctx.openLoop ? summarizeLatency(data.sendLag) : undefined,
    errors: { byStatus: data.statuses, byFailure: data.failureNames },
    timeline,
    latencyHistogram: toSparse(data.latency),
  };
}
