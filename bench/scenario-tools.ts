// What the benchmark scenarios share: running the load generator (`sibyl-bench`, the command
// `sibyl bench` delegates to) and other Node scripts as child processes, reading its JSON
// results, and writing model repositories into a scratch folder.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SIBYL = path.join(ROOT, 'packages/server/bin/sibyl.js');
/** The load generator's own binary (packages/bench): `sibyl bench` without the server's CLI. */
export const SIBYL_BENCH = path.join(ROOT, 'packages/bench/bin/sibyl-bench.js');

export interface BenchSummary {
  requestsPerSecond: number;
  rowsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
}

/** Runs `node args…` in the repository root; resolves with its stdout, rejects on a non-zero exit. */
export function runNode(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}

/**
 * One `sibyl bench` run of `seconds` (after 2 s of warm-up) against `url`: closed loop at
 * `concurrency`, or, with undefined, whatever `extra` says (an open-loop `--rate`).
 */
export async function bench(scratch: string, url: string, model: string, concurrency: number | undefined, seconds: number, extra: string[] = []): Promise<BenchSummary> {
  const file = path.join(scratch, `bench-${Date.now()}.json`);
  const loop = concurrency === undefined ? [] : ['-c', String(concurrency)];
  await runNode([SIBYL_BENCH, '--url', url, '--model', model, ...loop, '--duration-seconds', String(seconds), '--warmup-seconds', '2', '-q', '-o', file, ...extra]);
  const r = JSON.parse(readFileSync(file, 'utf8')) as {
    throughput: { requestsPerSecond: number; rowsPerSecond: number };
    latency: { p50Ms: number; p90Ms: number; p95Ms: number; p99Ms: number; maxMs: number };
    errors: { byStatus: Record<string, { count: number }>; byFailure: Record<string, { count: number }> };
  };
  const errors = [...Object.values(r.errors.byStatus), ...Object.values(r.errors.byFailure)].reduce((s, e) => s + e.count, 0);
  const { p50Ms, p90Ms, p95Ms, p99Ms, maxMs } = r.latency;
  return { ...r.throughput, p50Ms, p90Ms, p95Ms, p99Ms, maxMs, errors };
}

/** A model repository in `scratch/name`: each model's artifact copied to version 1, with its config.yaml. */
export function repository(scratch: string, name: string, models: Record<string, { artifact: string; config?: string; files?: Record<string, string> }>): string {
  const dir = path.join(scratch, name);
  for (const [model, { artifact, config, files }] of Object.entries(models)) {
    mkdirSync(path.join(dir, model, '1'), { recursive: true });
    cpSync(artifact, path.join(dir, model, '1', 'model.onnx'));
    if (config !== undefined) writeFileSync(path.join(dir, model, 'config.yaml'), config);
    for (const [file, text] of Object.entries(files ?? {})) writeFileSync(path.join(dir, model, file), text);
  }
  return dir;
}

/** The machine, as results record it. */
export function machine(): { cores: number; cpu: string | undefined; memoryGiB: number; node: string } {
  return { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM…); 0 when the process is gone or the field absent (Linux only). */
export function procStatusKb(pid: number | 'self', field: string): number {
  try {
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
