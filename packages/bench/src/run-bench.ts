// runBench(): the programmatic entry of the bench tool. Validates options, reads the model
// metadata, prepares the requests, runs warm-up then the measured window on one or more
// threads, reports progress once a second, and returns the BenchResult.
import type { BenchConfig, BenchOptions } from './config.ts';
import { describeConfig, resolveBenchConfig } from './config.ts';
import { BenchError } from './errors.ts';
import { fromSparse, Histogram } from './histogram.ts';
import { LocalShare, nowEpochMs } from './load-share.ts';
import type { ShareMode, ShareProgress, ShareResult, ShareSpec } from './load-share.ts';
import type { PreparedRun } from './prepare-run.ts';
import { prepareRun } from './prepare-run.ts';
import { mergeRecorderData } from './recorder.ts';
import type { BenchResult } from './result.ts';
import { buildResult } from './result.ts';
import { spawnWorkerShare } from './worker-share.ts';

/** A once-a-second report while the load runs. */
export interface BenchProgress {
  phase: 'warmup' | 'measure';
  /** Seconds since the load started (warm-up included). */
  elapsedSeconds: number;
  /** Completions (any status) per second since the previous report. */
  requestsPerSecond: number;
  /** p99 latency of the successful responses measured so far (NaN before any). */
  p99Ms: number;
  /** HTTP errors and failures since the start, warm-up included. */
  errors: number;
  inFlight: number;
}

export interface BenchHooks {
  /** Called about once a second with the run's progress. Must not throw. */
  onProgress?: (progress: BenchProgress) => void;
  /** Called once the server answered the metadata request and the requests are prepared. */
  onPrepared?: (run: PreparedRun, config: BenchConfig) => void;
  /** Aborting stops the run early: the result covers what was measured (interrupted: true). */
  signal?: AbortSignal;
}

/** A share of the load on this thread or on a worker thread. */
export interface ShareHandle {
  progress(): Promise<ShareProgress>;
  cut(atEpochMs: number): void;
  stop(): Promise<ShareResult>;
}

/**
 * Runs a benchmark. Throws BenchError before the load starts: 'usage' for invalid options,
 * 'unreachable' when the server cannot be reached, 'metadata' when the model metadata is an
 * error or unusable. Once the load runs, nothing is thrown: HTTP errors and failures are
 * tallied in the result.
 */
export async function runBench(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchResult> {
  const config = resolveBenchConfig(options);
  const prepared = await prepareRun(config, hooks.signal);
  hooks.onPrepared?.(prepared, config);
  return runPrepared(config, prepared, hooks);
}

/** Splits `total` into `parts` near-equal integers (larger ones first). */
export function splitEvenly(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** Each thread's share of the load mode. Throws BenchError('usage') if it cannot be split. */
export function splitMode(config: BenchConfig): ShareMode[] {
  const k = config.workers;
  const mode = config.mode;
  if (mode.kind === 'closed') {
    if (mode.concurrency < k) throw new BenchError('usage', `workers (${k}) exceeds concurrency (${mode.concurrency}); each worker needs at least one connection`);
    return splitEvenly(mode.concurrency, k).map((concurrency) => ({ kind: 'closed', concurrency }));
  }
  if (mode.maxInFlight < k) throw new BenchError('usage', `workers (${k}) exceeds max-in-flight (${mode.maxInFlight}); each worker needs at least one connection`);
  return splitEvenly(mode.maxInFlight, k).map((maxInFlight) => ({ kind: 'open', ratePerSecond: mode.ratePerSecond / k, arrival: mode.arrival, maxInFlight }));
}

async function runPrepared(config: BenchConfig, prepared: PreparedRun, hooks: BenchHooks): Promise<BenchResult> {
  const modes = splitMode(config);
  // Workers load their modules first (~0.3 s), so that the load starts together on all threads.
  const workers = config.workers === 1 ? [] : await Promise.all(modes.map(() => spawnWorkerShare()));
  const startEpochMs = nowEpochMs();
  const windowStartEpochMs = startEpochMs + config.warmupSeconds * 1000;
  const windowEndEpochMs = windowStartEpochMs + config.durationSeconds * 1000;
  const specs: ShareSpec[] = modes.map((mode, i) => ({
    endpoint: prepared.endpoint,
    requests: prepared.requests,
    timeoutMs: config.timeoutMs,
    mode,
    seed: config.seed + 7919 * i,
    firstRequest: Math.floor((i * prepared.requests.length) / modes.length),
    windowStartEpochMs,
    windowEndEpochMs,
  }));
  const shares: ShareHandle[] =
    config.workers === 1
      ? specs.map((spec) => {
          const share = new LocalShare(spec);
          return { progress: async () => share.progress(), cut: (at) => share.cut(at), stop: () => share.stop() };
        })
      : workers.map((w, i) => {
          w.start(specs[i]!);
          return w;
        });

  let interrupted = false;
  let running = true;
  await new Promise<void>((resolve) => {
    let lastCompleted = 0;
    let lastAt = startEpochMs;
    const finish = (): void => {
      running = false;
      clearInterval(ticker);
      clearTimeout(ender);
      hooks.signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = (): void => {
      interrupted = true;
      const now = nowEpochMs();
      for (const s of shares) s.cut(now);
      finish();
    };
    const ticker = setInterval(() => {
      void Promise.all(shares.map((s) => s.progress())).then((parts) => {
        if (!running) return;
        const now = nowEpochMs();
        const latency = new Histogram();
        let completed = 0;
        let errors = 0;
        let inFlight = 0;
        for (const p of parts) {
          completed += p.completedTotal;
          errors += p.errorsTotal;
          inFlight += p.inFlight;
          latency.add(fromSparse(p.latency));
        }
        const rate = ((completed - lastCompleted) * 1000) / Math.max(1, now - lastAt);
        lastCompleted = completed;
        lastAt = now;
        hooks.onProgress?.({
          // The phase of most of the second just reported.
          phase: now - 500 < windowStartEpochMs ? 'warmup' : 'measure',
          elapsedSeconds: (now - startEpochMs) / 1000,
          requestsPerSecond: rate,
          p99Ms: latency.percentileNs(99) / 1e6,
          errors,
          inFlight,
        });
      }, () => undefined); // a failed worker surfaces in stop()
    }, 1000);
    const ender = setTimeout(finish, Math.max(0, windowEndEpochMs - nowEpochMs()));
    if (hooks.signal?.aborted === true) onAbort();
    else hooks.signal?.addEventListener('abort', onAbort, { once: true });
  });

  const results = await Promise.all(shares.map((s) => s.stop()));
  const data = mergeRecorderData(results.map((r) => r.data));
  return buildResult(data, {
    config: describeConfig(config),
    requests: prepared.description,
    startedAt: new Date(startEpochMs).toISOString(),
    interrupted,
    measuredSeconds: results[0]!.measuredSeconds,
    connections: results.reduce((n, r) => n + r.connections, 0),
    workers: config.workers,
    openLoop: config.mode.kind === 'open',
  });
}
