// How `sibyl batch run` shows a job's progress: on a terminal, one line redrawn in place (a bar
// when the total is known, rows/s and ETA); otherwise a plain line every interval. And the
// summary printed when the job ends.
import { SibylError } from '@sibyl/protocol';
import type { BatchProgress } from '../batch/batch-runner.ts';
import type { BatchJobRecord } from '../batch/prediction-store.ts';

const BAR = 24;

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const rate = (p: BatchProgress): number => (p.elapsedMs > 0 ? (p.rowsThisRun * 1000) / p.elapsedMs : 0);

/** One progress line: `[#####-----] 45.0% 450000/1000000 rows, 512000 rows/s, ETA 1s, 3 rejected`. */
export function progressText(p: BatchProgress, withBar: boolean): string {
  const perSecond = rate(p);
  const total = p.rowsTotal;
  let text = '';
  if (total !== undefined && total > 0) {
    const fraction = Math.min(1, p.rowsRead / total);
    if (withBar) text += `[${'#'.repeat(Math.round(fraction * BAR)).padEnd(BAR, '-')}] `;
    text += `${(fraction * 100).toFixed(1)}% ${p.rowsRead}/${total} rows`;
  } else text += `${p.rowsRead} rows`;
  text += `, ${Math.round(perSecond)} rows/s`;
  if (total !== undefined && perSecond > 0 && p.rowsRead < total) text += `, ETA ${formatDuration(((total - p.rowsRead) / perSecond) * 1000)}`;
  if (p.rowsRejected > 0) text += `, ${p.rowsRejected} rejected`;
  if (p.chunksSkipped > 0) text += `, ${p.chunksSkipped} chunks done before`;
  return text;
}

export interface ProgressReporter {
  update(p: BatchProgress): void;
  done(): void;
}

export function progressReporter(out: NodeJS.WriteStream | { isTTY?: boolean; write(s: string): unknown }, intervalMs: number, now: () => number = Date.now): ProgressReporter {
  const tty = out.isTTY === true;
  let last = -Infinity;
  let drawn = false;
  let latest: BatchProgress | undefined;
  return {
    update(p) {
      latest = p;
      const t = now();
      if (t - last < (tty ? 100 : intervalMs)) return;
      last = t;
      if (tty) {
        out.write(`\r\x1b[2K${progressText(p, true)}`);
        drawn = true;
      } else out.write(`progress: ${progressText(p, false)}\n`);
    },
    done() {
      if (tty && drawn && latest !== undefined) out.write(`\r\x1b[2K${progressText(latest, true)}\n`);
    },
  };
}

/** The summary of a finished run. */
export function summaryText(record: BatchJobRecord, run: { rowsThisRun: number; elapsedMs: number; chunksSkipped: number }, rejectsPath: string): string {
  const perSecond = run.elapsedMs > 0 ? (run.rowsThisRun * 1000) / run.elapsedMs : 0;
  const lines = [
    `batch job ${record.name} (${record.id}) ${record.status.toUpperCase()}`,
    `  rows      ${record.rowsRead} read, ${record.rowsWritten} written, ${record.rowsRejected} rejected`,
    `  chunks    ${record.chunksCommitted}${record.chunksTotal === undefined ? '' : ` of ${record.chunksTotal}`} committed${run.chunksSkipped > 0 ? ` (${run.chunksSkipped} by an earlier run, skipped)` : ''}`,
    `  time      ${formatDuration(run.elapsedMs)} (${(run.elapsedMs / 1000).toFixed(2)} s), ${Math.round(perSecond)} rows/s`,
  ];
  if (record.rowsRejected > 0) lines.push(`  rejects   ${rejectsPath}`);
  if (record.error !== undefined) lines.push(`  error     ${record.error}`);
  return lines.join('\n');
}

/** What a run reports as it goes: the fields progress lines and the summary read. */
export type RunProgress = Omit<BatchProgress, 'jobId'> & { jobId?: string };

/**
 * Runs a job the way `sibyl batch run` does, single-process or distributed: SIGINT/SIGTERM
 * cancel it, progress goes to stderr, the summary to stdout. Resolves with the exit code (0
 * succeeded, 1 failed or cancelled, or a SibylError before the job could run); `cleanup` runs
 * whatever happens.
 */
export async function runReported(
  io: { stdout: { write(s: string): unknown }; stderr: { isTTY?: boolean; write(s: string): unknown } },
  options: { intervalMs: number; rejectsPath: string; cleanup: () => Promise<void> },
  run: (signal: AbortSignal, onProgress: (p: RunProgress) => void) => Promise<BatchJobRecord>,
): Promise<number> {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const reporter = progressReporter(io.stderr, options.intervalMs);
    let last: RunProgress | undefined;
    const record = await run(controller.signal, (p) => {
      last = p;
      reporter.update({ jobId: '', ...p });
    });
    reporter.done();
    io.stdout.write(summaryText(record, { rowsThisRun: last?.rowsThisRun ?? 0, elapsedMs: last?.elapsedMs ?? 0, chunksSkipped: last?.chunksSkipped ?? 0 }, options.rejectsPath) + '\n');
    return record.status === 'succeeded' ? 0 : 1;
  } catch (err) {
    if (err instanceof SibylError) {
      io.stderr.write(`sibyl batch run: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await options.cleanup();
  }
}
