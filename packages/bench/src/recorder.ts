// Tallies one thread's requests: latency of successful responses, errors by HTTP status and
// `reason`, transport failures by name, sends, drops and late sends, and a per-second timeline.
// Only requests *sent* inside the measurement window count — for the open loop, *scheduled*
// inside it — (warm-up requests are ignored, and requests still in flight when the window
// closes count when they complete): each event carries that `windowAt` time. Timeline seconds
// are by completion time (sends and drops by send time), relative to the window start; anything
// after the window's last second is folded into that second. Times are performance.now() ms of
// the recording thread; RecorderData is plain data so that threads' tallies can be merged.
import { Histogram, toSparse, fromSparse } from './histogram.ts';
import type { HistogramData, SparseHistogram } from './histogram.ts';

/** An open-loop request sent more than this many ms after its scheduled time is late. */
export const LATE_MS = 2;

export interface ReasonTally {
  count: number;
  /** The first error message seen with this reason (truncated). */
  example: string;
}

export interface StatusTally {
  count: number;
  /** By the `reason` of the JSON error body ('' when the body had none). */
  reasons: Record<string, ReasonTally>;
}

export interface SecondData {
  /** Responses (any status) and failures that completed in this second. */
  completed: number;
  ok: number;
  httpErrors: number;
  failures: number;
  sent: number;
  dropped: number;
  late: number;
  /** Rows (batch items) of the successful responses. */
  rows: number;
  /** Latency of this second's successful responses. */
  latency: SparseHistogram;
}

export interface RecorderData {
  sent: number;
  ok: number;
  httpErrors: number;
  failures: number;
  /** Open loop: scheduled requests not sent because max-in-flight requests were outstanding. */
  dropped: number;
  /** Open loop: requests sent more than LATE_MS after their scheduled time. */
  late: number;
  rows: number;
  /** Latency of successful (2xx) responses. */
  latency: HistogramData;
  /** Open loop: how long after its scheduled time each request was written. */
  sendLag: HistogramData;
  /** Non-2xx responses by status code. */
  statuses: Record<string, StatusTally>;
  /** Requests without a response, by failure name (ECONNRESET, TIMEOUT, PROTOCOL, …). */
  failureNames: Record<string, ReasonTally>;
  seconds: SecondData[];
}

const EXAMPLE_LENGTH = 300;

function emptySecond(): SecondData {
  const latency: SparseHistogram = { index: [], counts: [], count: 0, sumNs: 0, minNs: Infinity, maxNs: 0 };
  return { completed: 0, ok: 0, httpErrors: 0, failures: 0, sent: 0, dropped: 0, late: 0, rows: 0, latency };
}

/** `reason` and message of an error body: V2's {"error": "…"} plus Sibyl's optional reason. */
export function parseErrorBody(body: Buffer | undefined): { reason: string; message: string } {
  if (body === undefined || body.length === 0) return { reason: '', message: '' };
  const text = body.toString('utf8');
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc === 'object' && doc !== null) {
      const { reason, error } = doc as { reason?: unknown; error?: unknown };
      return { reason: typeof reason === 'string' ? reason : '', message: typeof error === 'string' ? error.slice(0, EXAMPLE_LENGTH) : text.slice(0, EXAMPLE_LENGTH) };
    }
  } catch {
    // not JSON: keep the text as the example
  }
  return { reason: '', message: text.slice(0, EXAMPLE_LENGTH) };
}

export class Recorder {
  /** Every completion since the start, warm-up included (for progress). */
  completedTotal = 0;
  /** Every HTTP error and failure since the start, warm-up included (for progress). */
  errorsTotal = 0;
  readonly latency = new Histogram();
  private readonly sendLag = new Histogram();
  private windowStart: number;
  private windowEnd: number;
  /** Index of the window's last timeline second. */
  private lastIndex: number;
  private counts = { sent: 0, ok: 0, httpErrors: 0, failures: 0, dropped: 0, late: 0, rows: 0 };
  private readonly statuses: Record<string, StatusTally> = {};
  private readonly failureNames: Record<string, ReasonTally> = {};
  private readonly seconds: SecondData[] = [];
  private current = emptySecond();
  private readonly currentLatency = new Histogram();
  private currentIndex = 0;

  /** Requests sent at or after `windowStartMs` and before `windowEndMs` count. */
  constructor(windowStartMs: number, windowEndMs: number) {
    this.windowStart = windowStartMs;
    this.windowEnd = windowEndMs;
    this.lastIndex = this.computeLastIndex();
  }

  /** Closes the window early, at `atMs` (an interrupted run); a later time changes nothing. */
  cut(atMs: number): void {
    if (atMs >= this.windowEnd) return;
    this.windowEnd = atMs;
    this.lastIndex = this.computeLastIndex();
  }

  /** The window's length in seconds (0 when it was cut before it opened). */
  windowSeconds(): number {
    return Math.max(0, this.windowEnd - this.windowStart) / 1000;
  }

  private computeLastIndex(): number {
    return Math.max(1, Math.ceil(this.windowSeconds())) - 1;
  }

  /** A request was written at `atMs` (closed loop). */
  onSent(atMs: number): void {
    if (!(atMs >= this.windowStart && atMs < this.windowEnd)) return;
    this.counts.sent++;
    this.second(atMs).sent++;
  }

  /** A request scheduled at `scheduledMs` was written `lagMs` later (open loop). */
  onScheduledSent(scheduledMs: number, lagMs: number): void {
    if (!(scheduledMs >= this.windowStart && scheduledMs < this.windowEnd)) return;
    const s = this.second(scheduledMs);
    this.counts.sent++;
    s.sent++;
    this.sendLag.recordMs(lagMs);
    if (lagMs > LATE_MS) {
      this.counts.late++;
      s.late++;
    }
  }

  /** A request scheduled at `atMs` was not sent: max-in-flight requests were outstanding. */
  onDropped(atMs: number): void {
    if (!(atMs >= this.windowStart && atMs < this.windowEnd)) return;
    this.counts.dropped++;
    this.second(atMs).dropped++;
  }

  /** A response with `status` completed at `endMs` for a request written at `sentMs`. */
  onResponse(windowAt: number, sentMs: number, endMs: number, status: number, errorBody: Buffer | undefined, rows: number): void {
    this.completedTotal++;
    const ok = status >= 200 && status < 300;
    if (!ok) this.errorsTotal++;
    if (!(windowAt >= this.windowStart && windowAt < this.windowEnd)) return;
    const s = this.second(endMs);
    s.completed++;
    if (ok) {
      const ms = endMs - sentMs;
      this.latency.recordMs(ms);
      this.currentLatency.recordMs(ms);
      this.counts.ok++;
      this.counts.rows += rows;
      s.ok++;
      s.rows += rows;
      return;
    }
    this.counts.httpErrors++;
    s.httpErrors++;
    const tally = (this.statuses[status] ??= { count: 0, reasons: {} });
    tally.count++;
    const { reason, message } = parseErrorBody(errorBody);
    const r = (tally.reasons[reason] ??= { count: 0, example: message });
    r.count++;
  }

  /** A request failed at `endMs` without a response. */
  onFailure(windowAt: number, endMs: number, failure: string, message: string): void {
    this.completedTotal++;
    this.errorsTotal++;
    if (!(windowAt >= this.windowStart && windowAt < this.windowEnd)) return;
    const s = this.second(endMs);
    s.completed++;
    s.failures++;
    this.counts.failures++;
    const f = (this.failureNames[failure] ??= { count: 0, example: message.slice(0, EXAMPLE_LENGTH) });
    f.count++;
  }

  /** Everything recorded, as plain data. Call once, after the last completion. */
  data(): RecorderData {
    this.roll(this.lastIndex + 1);
    return {
      ...this.counts,
      latency: this.latency.toData(),
      sendLag: this.sendLag.toData(),
      statuses: this.statuses,
      failureNames: this.failureNames,
      seconds: this.seconds,
    };
  }

  /** The timeline entry of time `atMs`, rolling the timeline forward as time passes. */
  private second(atMs: number): SecondData {
    const index = Math.max(0, Math.min(this.lastIndex, Math.floor((atMs - this.windowStart) / 1000)));
    if (index > this.currentIndex) this.roll(index);
    return this.current;
  }

  /** Closes the current second and any empty ones until `index`, which becomes current. */
  private roll(index: number): void {
    while (this.currentIndex < index) {
      this.current.latency = toSparse(this.currentLatency);
      this.seconds.push(this.current);
      this.currentLatency.reset();
      this.current = emptySecond();
      this.currentIndex++;
    }
  }
}

/** Sums several threads' RecorderData (same window) into one. */
export function mergeRecorderData(parts: readonly RecorderData[]): RecorderData {
  const latency = new Histogram();
  const sendLag = new Histogram();
  const out: RecorderData = {
    sent: 0,
    ok: 0,
    httpErrors: 0,
    failures: 0,
    dropped: 0,
    late: 0,
    rows: 0,
    latency,
    sendLag,
    statuses: {},
    failureNames: {},
    seconds: [],
  };
  const secondLatency: Histogram[] = [];
  for (const p of parts) {
    for (const k of ['sent', 'ok', 'httpErrors', 'failures', 'dropped', 'late', 'rows'] as const) out[k] += p[k];
    latency.add(p.latency);
    sendLag.add(p.sendLag);
    for (const [status, t] of Object.entries(p.statuses)) {
      const into = (out.statuses[status] ??= { count: 0, reasons: {} });
      into.count += t.count;
      for (const [reason, r] of Object.entries(t.reasons)) {
        const ri = (into.reasons[reason] ??= { count: 0, example: r.example });
        ri.count += r.count;
      }
    }
    for (const [name, f] of Object.entries(p.failureNames)) {
      const into = (out.failureNames[name] ??= { count: 0, example: f.example });
      into.count += f.count;
    }
    p.seconds.forEach((s, i) => {
      const into = (out.seconds[i] ??= emptySecond());
      for (const k of ['completed', 'ok', 'httpErrors', 'failures', 'sent', 'dropped', 'late', 'rows'] as const) into[k] += s[k];
      (secondLatency[i] ??= new Histogram()).add(fromSparse(s.latency));
    });
  }
  out.seconds.forEach((s, i) => (s.latency = toSparse(secondLatency[i]!)));
  out.latency = latency.toData();
  out.sendLag = sendLag.toData();
  return out;
}
