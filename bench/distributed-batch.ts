// Distributed batch throughput: the same job (the tabular MLP over a generated CSV of N rows × 32
// features, into SQLite) run by `sibyl batch run` in one process, and by `sibyl batch run
// --distributed` with 1 and with 2 `sibyl worker` processes on this machine (Redis at REDIS_URL,
// default redis://127.0.0.1:6379). Rows/s from the coordinator's start to its exit, repeated and
// alternated; medians printed (and written to bench/results/<date>-distributed-batch.md with
// --record).
//
//   npx tsx bench/distributed-batch.ts [rows=200000] [repetitions=3] [--record]
//
// On a machine with few cores, workers compete with the coordinator, Redis and each other: two
// workers on one 2-core machine show the cost of the queue, not the scaling across machines.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, machine } from './scenario-tools.ts';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const record = process.argv.includes('--record');
const ROWS = Number(args[0] ?? 200_000);
const REPETITIONS = Number(args[1] ?? 3);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BIN = path.join(ROOT, 'packages/server/bin/sibyl.js');
const MODELS = path.join(ROOT, 'examples/models');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'sibyl-distributed-bench-'));

let csv = `id,${Array.from({ length: 32 }, (_, i) => `f${i}`).join(',')}\n`;
for (let r = 0; r < ROWS; r++) {
  const row = [`k${r}`];
  for (let i = 0; i < 32; i++) row.push((Math.sin(r * 31 + i * 7) * 3).toFixed(5));
  csv += `${row.join(',')}\n`;
}
writeFileSync(path.join(scratch, 'data.csv'), csv);

function jobFile(name: string): string {
  const file = path.join(scratch, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\nsource: {csv: data.csv}\nkey: id\ninputs: {input: {columns: [${Array.from({ length: 32 }, (_, i) => `f${i}`).join(', ')}]}}\ntarget: {model: tabular_mlp}\nstore: {sqlite: ${name}.sqlite}\nchunkRows: 10000\n`,
  );
  return file;
}

function run(argv: string[]): { done: Promise<{ code: number | null; output: string }>; kill: () => void; ready: Promise<void> } {
  const child = spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    if (output.includes('sibyl worker ready')) markReady();
  });
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return { done: new Promise((resolve) => child.once('exit', (code) => resolve({ code, output }))), kill: () => child.kill('SIGTERM'), ready };
}

async function timed(argv: string[]): Promise<number> {
  const started = performance.now();
  const { code, output } = await run(argv).done;
  if (code !== 0) throw new Error(`sibyl ${argv.join(' ')} exited ${code}:\n${output}`);
  return (ROWS * 1000) / (performance.now() - started);
}

const results: Record<string, number[]> = { 'single process': [], 'distributed, 1 worker': [], 'distributed, 2 workers': [] };
for (let rep = 0; rep < REPETITIONS; rep++) {
  results['single process']!.push(await timed(['batch', 'run', jobFile(`single-${rep}`), '--model-repository', MODELS, '--fresh']));
  for (const workers of rep % 2 === 0 ? [1, 2] : [2, 1]) {
    const prefix = `sibyl-bench-${randomUUID()}`;
    const pool = Array.from({ length: workers }, () => run(['worker', '--redis-url', REDIS_URL, '--queue-prefix', prefix, '--model-repository', MODELS, '--poll-interval-ms', '100']));
    await Promise.all(pool.map((w) => w.ready));
    const rate = await timed(['batch', 'run', jobFile(`distributed-${workers}-${rep}`), '--distributed', '--redis-url', REDIS_URL, '--queue-prefix', prefix, '--fresh']);
    results[`distributed, ${workers} worker${workers > 1 ? 's' : ''}`]!.push(rate);
    for (const w of pool) w.kill();
    await Promise.all(pool.map((w) => w.done));
  }
  console.error(`repetition ${rep + 1}: ${Object.entries(results).map(([k, v]) => `${k} ${Math.round(v.at(-1)!)} rows/s`).join(', ')}`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const lines = [
  `# Distributed batch throughput, ${new Date().toISOString().slice(0, 10)}`,
  '',
  `${Object.entries(machine()).map(([k, v]) => `${k} ${v}`).join(', ')}; ${ROWS} rows × 32 features, tabular_mlp, chunks of 10000 rows, SQLite store; command: npx tsx bench/distributed-batch.ts ${ROWS} ${REPETITIONS}`,
  '',
  '| run | median rows/s | runs |',
  '| --- | ---: | --- |',
  ...Object.entries(results).map(([k, v]) => `| ${k} | ${Math.round(median(v))} | ${v.map((x) => Math.round(x)).join(', ')} |`),
  '',
];
console.log(lines.join('\n'));
if (record) writeFileSync(path.join(ROOT, 'bench/results', `${new Date().toISOString().slice(0, 10)}-distributed-batch.md`), lines.join('\n'));
rmSync(scratch, { recursive: true, force: true });
