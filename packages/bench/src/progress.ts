// The once-a-second progress line (stderr). On a terminal the phase is dimmed and errors are
// red; otherwise (pipes, CI logs, NO_COLOR) lines are plain text without ANSI sequences.
import type { BenchProgress } from './run-bench.ts';

export function formatProgress(p: BenchProgress, color: boolean): string {
  const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[22m` : s);
  const red = (s: string): string => (color && p.errors > 0 ? `\x1b[31m${s}\x1b[39m` : s);
  const phase = p.phase === 'warmup' ? 'warmup ' : 'measure';
  const p99 = Number.isNaN(p.p99Ms) ? '-' : `${formatMs(p.p99Ms)} ms`;
  return (
    `${dim(`[${p.elapsedSeconds.toFixed(0).padStart(4)}s ${phase}]`)} ${Math.round(p.requestsPerSecond).toLocaleString('en-US').padStart(9)} req/s` +
    `  p99 ${p99.padStart(10)}  in flight ${String(p.inFlight).padStart(4)}  ${red(`errors ${p.errors}`)}`
  );
}

/** Milliseconds with 3 significant digits at least (0.123, 1.23, 12.3, 123). */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** Whether to color output for a stream: a TTY, and NO_COLOR unset. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}
