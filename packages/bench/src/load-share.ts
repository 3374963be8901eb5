// One thread's share of the load: a driver, the recorder it feeds, and the window it measures.
// The calling thread runs one share (the default), or each worker thread runs one (--workers).
// Times crossing threads are epoch milliseconds (performance.timeOrigin + performance.now()),
// since each thread's performance.now() has its own origin.
import { ClosedLoopDriver } from './closed-loop.ts';
import type { Arrival } from './config.ts';
import type { SparseHistogram } from './histogram.ts';
import { toSparse } from './histogram.ts';
import type { Endpoint, PreparedRequest } from './http-request.ts';
import type { LoadDriver } from './load-driver.ts';
import { OpenLoopDriver } from './open-loop.ts';
import { seededRandom } from './random.ts';
import { Recorder } from './recorder.ts';
import type { RecorderData } from './recorder.ts';

export type ShareMode = { kind: 'closed'; concurrency: number } | { kind: 'open'; ratePerSecond: number; arrival: Arrival; maxInFlight: number };

/** What a share runs. Plain data (posted to worker threads). */
export interface ShareSpec {
  endpoint: Endpoint;
  requests: readonly PreparedRequest[];
  timeoutMs: number;
  mode: ShareMode;
  /** Seed of the open loop's arrivals. */
  seed: number;
  /** Round-robin start among the requests. */
  firstRequest: number;
  /** The measurement window, epoch ms; its length in seconds sizes the timeline. */
  windowStartEpochMs: number;
  windowEndEpochMs: number;
}

export interface ShareProgress {
  completedTotal: number;
  errorsTotal: number;
  inFlight: number;
  /** Latency of the successful responses measured so far. */
  latency: SparseHistogram;
}

export interface ShareResult {
  data: RecorderData;
  connections: number;
  /** The window's actual length (shorter than planned when cut). */
  measuredSeconds: number;
}

/** Epoch ms ⇄ this thread's performance.now(). */
export const toLocalMs = (epochMs: number): number => epochMs - performance.timeOrigin;
export const nowEpochMs = (): number => performance.timeOrigin + performance.now();

/** A running share. */
export class LocalShare {
  private readonly recorder: Recorder;
  private readonly driver: LoadDriver;
  private readonly connections: () => number;

  /** Starts sending at once. */
  constructor(spec: ShareSpec) {
    this.recorder = new Recorder(toLocalMs(spec.windowStartEpochMs), toLocalMs(spec.windowEndEpochMs));
    const target = { endpoint: spec.endpoint, requests: spec.requests, recorder: this.recorder, timeoutMs: spec.timeoutMs, firstRequest: spec.firstRequest };
    if (spec.mode.kind === 'closed') {
      const concurrency = spec.mode.concurrency;
      this.driver = new ClosedLoopDriver(target, concurrency);
      this.connections = () => concurrency;
    } else {
      const open = new OpenLoopDriver(target, spec.mode, seededRandom(spec.seed));
      this.driver = open;
      this.connections = () => open.connectionCount();
    }
    this.driver.start();
  }

  progress(): ShareProgress {
    const r = this.recorder;
    return { completedTotal: r.completedTotal, errorsTotal: r.errorsTotal, inFlight: this.driver.inFlight(), latency: toSparse(r.latency) };
  }

  /** Closes the window at `atEpochMs` if it is earlier than planned (interrupted runs). */
  cut(atEpochMs: number): void {
    this.recorder.cut(toLocalMs(atEpochMs));
  }

  /** Stops sending; resolves with the tallies once every outstanding request has finished. */
  async stop(): Promise<ShareResult> {
    await this.driver.stop();
    return { data: this.recorder.data(), connections: this.connections(), measuredSeconds: this.recorder.windowSeconds() };
  }
}
