// Issue 8's batch target: a 1,000,000-row CSV scored with the tabular MLP into SQLite by
// `sibyl batch run` (the real binary), against raw onnxruntime-node in process at its best batch
// size (1 and 2 intra-op threads, batches up to 8192), measured in the same run. Then where the
// time goes: a CPU profile of the main thread of a second run, grouped by part, and each part
// alone in process (CSV scan, scan + mapping, building per-row predictions, SQLite commits).
// Writes bench/results/<date>-batch-job.{json,md}.
//
//   npx tsx bench/batch-job.ts [rows=1000000] [secondsPerRawSetting=3] [batchRuns=5]
//
// On a shared machine throughput varies run to run; the batch job runs several times (best and
// median recorded) and its CPU time per row (user + system, all threads) is recorded beside it.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { CsvSource } from '../packages/server/src/batch/sources/csv-source.ts';
import { RowMapper } from '../packages/server/src/batch/row-mapping.ts';
import { splitOutputs } from '../packages/server/src/batch/score-chunk.ts';
import { SqlitePredictionStore } from '../packages/server/src/batch/sqlite-prediction-store.ts';
import type { StoredPrediction } from '../packages/server/src/batch/prediction-store.ts';
import { ROOT, SIBYL, machine } from './scenario-tools.ts';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const RAW_SECONDS = Number(process.argv[3] ?? 3);
const BATCH_RUNS = Number(process.argv[4] ?? 5);
const CHUNK_ROWS = 10_000;
const FEATURES = Array.from({ length: 32 }, (_, i) => `f${i}`);
const MODEL = path.join(ROOT, 'examples/models/tabular_mlp/1/model.onnx');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'sibyl-batch-bench-'));
const csv = path.join(scratch, 'rows.csv');

// 1. The data set: ids and 32 features with 6 decimals (about 315 bytes a row), seeded.
{
  const fd = openSync(csv, 'w');
  let s = `id,${FEATURES.join(',')}\n`;
  let seed = 12345;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  for (let r = 0; r < ROWS; r++) {
    s += `cust${r}`;
    for (let j = 0; j < 32; j++) s += ',' + ((rnd() - 0.5) * 8).toFixed(6);
    s += '\n';
    if (s.length > 1 << 20) {
      writeSync(fd, s);
      s = '';
    }
  }
  writeSync(fd, s);
  closeSync(fd);
}
const csvBytes = statSync(csv).size;
const jobFile = path.join(scratch, 'job.yaml');
writeFileSync(jobFile, ['name: bench', 'source: {csv: rows.csv}', 'key: id', 'inputs:', `  input: {columns: [${FEATURES.join(', ')}]}`, 'target: {model: tabular_mlp}', 'store: {sqlite: predictions.sqlite}', `chunkRows: ${CHUNK_ROWS}`, ''].join('\n'));

// 2. Raw onnxruntime-node: the ceiling.
const raw: { threads: number; batch: number; rowsPerSecond: number }[] = [];
for (const threads of [1, 2]) {
  const session = await ort.InferenceSession.create(MODEL, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  for (const batch of [64, 256, 1024, 4096, 8192]) {
    const data = Float32Array.from({ length: batch * 32 }, (_, i) => ((i * 7919) % 1000) / 125 - 4);
    const feeds = { input: new ort.Tensor('float32', data, [batch, 32]) };
    for (let i = 0; i < 5; i++) await session.run(feeds);
    let runs = 0;
    const start = performance.now();
    while (performance.now() - start < RAW_SECONDS * 1000) {
      await session.run(feeds);
      runs++;
    }
    raw.push({ threads, batch, rowsPerSecond: Math.round((runs * batch * 1000) / (performance.now() - start)) });
  }
  await session.release();
}
const best = raw.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));

// 3. `sibyl batch run`, twice: a plain run (the measurement), then one under --cpu-prof.
function runCli(args: string[], nodeArgs: string[] = []): Promise<{ wallMs: number; out: string; code: number | null }> {
  const started = performance.now();
  // /usr/bin/time reports the CPU time of the process and all its threads.
  const child = spawn('/usr/bin/time', ['-f', 'cpu-seconds %U %S', process.execPath, ...nodeArgs, SIBYL, 'batch', 'run', jobFile, '--fresh', '--progress-interval-ms', '1000000', ...args], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ wallMs: performance.now() - started, out, code })));
}
const parseRun = (out: string): { seconds: number; rowsPerSecond: number; written: number; cpuSeconds: number } => {
  const time = /time +\S+ \(([\d.]+) s\), (\d+) rows\/s/.exec(out);
  const rows = /(\d+) written/.exec(out);
  const cpu = /cpu-seconds ([\d.]+) ([\d.]+)/.exec(out);
  if (time === null || rows === null || cpu === null) throw new Error(`unexpected output of sibyl batch run:\n${out}`);
  return { seconds: Number(time[1]), rowsPerSecond: Number(time[2]), written: Number(rows[1]), cpuSeconds: Number((Number(cpu[1]) + Number(cpu[2])).toFixed(2)) };
};
const runs: { seconds: number; rowsPerSecond: number; written: number; cpuSeconds: number; wallMs: number }[] = [];
for (let i = 0; i < BATCH_RUNS; i++) {
  rmSync(path.join(scratch, 'predictions.sqlite'), { force: true });
  rmSync(path.join(scratch, 'predictions.sqlite-wal'), { force: true });
  const r = await runCli([]);
  if (r.code !== 0) throw new Error(`sibyl batch run failed:\n${r.out}`);
  runs.push({ ...parseRun(r.out), wallMs: Math.round(r.wallMs) });
}
// Start-up CPU (tsx, bundling the workers, loading the model): the same job over a 1-row file.
const tinyJob = path.join(scratch, 'tiny.yaml');
writeFileSync(path.join(scratch, 'tiny.csv'), readFileSync(csv, 'utf8').split('\n', 2).join('\n') + '\n');
writeFileSync(tinyJob, readFileSync(jobFile, 'utf8').replace('rows.csv', 'tiny.csv').replace('name: bench', 'name: tiny'));
const startupCpu = await (async () => {
  const child = spawn('/usr/bin/time', ['-f', 'cpu-seconds %U %S', process.execPath, SIBYL, 'batch', 'run', tinyJob, '--fresh'], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => (out += t));
  child.stdout.resume();
  await new Promise((resolve) => child.once('exit', resolve));
  const cpu = /cpu-seconds ([\d.]+) ([\d.]+)/.exec(out)!;
  return Number(cpu[1]) + Number(cpu[2]);
})();
const measured = runs.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
const median = [...runs].sort((a, b) => a.rowsPerSecond - b.rowsPerSecond)[Math.floor(runs.length / 2)]!;
const medianCpuSeconds = [...runs].map((r) => r.cpuSeconds).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
const rerun = await runCli([]); // into the full store: every row replaced
const replaced = parseRun(rerun.out);

// Where the main thread's time goes, from a CPU profile of a run.
const profDir = path.join(scratch, 'prof');
mkdirSync(profDir);
rmSync(path.join(scratch, 'predictions.sqlite'), { force: true });
await runCli([], ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
const profiles = readdirSync(profDir).map((f) => path.join(profDir, f));
const mainProfile = profiles.reduce((a, b) => (statSync(b).size > statSync(a).size ? b : a));
const PARTS: [string, RegExp][] = [
  ['SQLite commits (prediction store, better-sqlite3)', /sqlite-prediction-store|better-sqlite3|output-codec/],
  ['CSV scanning (csv-source)', /csv-source/],
  ['row mapping (row-mapping, json-data)', /row-mapping|json-data|json-codec/],
  ['splitting outputs into per-row predictions (score-chunk)', /score-chunk/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['idle (waiting for inference or I/O)', /^\(idle\)$/],
];
type Node = { id: number; callFrame: { functionName: string; url: string } };
const profile = JSON.parse(readFileSync(mainProfile, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const partMs = new Map<string, number>(PARTS.map(([name]) => [name, 0]));
let totalMs = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const ms = (profile.timeDeltas[i] ?? 0) / 1000;
  totalMs += ms;
  const n = byId.get(profile.samples[i]!)!;
  const label = n.callFrame.url === '' ? n.callFrame.functionName : n.callFrame.url;
  const part = PARTS.find(([, re]) => re.test(label));
  const name = part?.[0] ?? 'everything else (start-up, module loading, scheduling, messages)';
  partMs.set(name, (partMs.get(name) ?? 0) + ms);
}

// 4. Each part alone, in process.
// CPU time (this process, all threads) rather than wall time: steadier on a shared machine.
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const timeIt = async (fn: () => Promise<void>): Promise<number> => {
  const t = cpuMs();
  await fn();
  return cpuMs() - t;
};
const signature = { inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [-1, 32] }], maxBatchSize: 64 };
const mapper = new RowMapper([{ input: 'input', columns: FEATURES }], ['id'], signature, 'tabular_mlp');
const scanMs = await timeIt(async () => {
  for await (const c of CsvSource.create(csv, { columns: ['id', ...FEATURES], textColumns: ['id'], scanIn: 'thread' }).chunks({ chunkRows: CHUNK_ROWS })) void c;
});
const mapMs = await timeIt(async () => {
  for await (const c of CsvSource.create(csv, { columns: ['id', ...FEATURES], textColumns: ['id'], scanIn: 'thread' }).chunks({ chunkRows: CHUNK_ROWS })) {
    const { good } = mapper.check(c);
    for (let i = 0; i < good.length; i += 4096) mapper.build(c, good.slice(i, i + 4096));
  }
});
// Per-row predictions from outputs shaped like the model's ([n, 2] FP32), and their commits.
const outputs = [{ name: 'probabilities', datatype: 'FP32' as const, shape: [CHUNK_ROWS, 2], data: Float32Array.from({ length: CHUNK_ROWS * 2 }, (_, i) => (i % 7) / 7) }];
let splitMs = 0;
const storeFile = path.join(scratch, 'store-alone.sqlite');
const store = await SqlitePredictionStore.open(storeFile);
let commitMs = 0;
for (let c = 0; c < ROWS / CHUNK_ROWS; c++) {
  const keys = Array.from({ length: CHUNK_ROWS }, (_, i) => `cust${c * CHUNK_ROWS + i}`);
  let t = cpuMs();
  const perRow = splitOutputs(outputs, CHUNK_ROWS);
  const predictions: StoredPrediction[] = perRow.map((o, i) => ({ model: 'tabular_mlp', key: keys[i]!, version: '1', outputs: o, jobId: 'bench', createdAtMs: Date.now() }));
  splitMs += cpuMs() - t;
  t = cpuMs();
  await store.commitChunk('bench', c, predictions);
  commitMs += cpuMs() - t;
}
await store.close();
const perMillion = (ms: number): number => Math.round((ms * 1_000_000) / ROWS);

// 5. Record.
const date = new Date().toISOString();
const ratio = measured.rowsPerSecond / best.rowsPerSecond;
const result = {
  date,
  machine: { ...machine(), loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))) },
  command: `npx tsx bench/batch-job.ts ${ROWS} ${RAW_SECONDS} ${BATCH_RUNS}`,
  rows: ROWS,
  csvBytes,
  chunkRows: CHUNK_ROWS,
  raw,
  bestRaw: best,
  batchRuns: runs,
  batchRerunIntoFullStore: replaced,
  batch: measured,
  ratio: Number(ratio.toFixed(3)),
  medianRun: median,
  medianRatio: Number((median.rowsPerSecond / best.rowsPerSecond).toFixed(3)),
  startupCpuSeconds: Number(startupCpu.toFixed(2)),
  cpuMicrosecondsPerRow: { batchJobMedian: Number((((medianCpuSeconds - startupCpu) * 1e6) / ROWS).toFixed(2)), rawBest: Number((1e6 / best.rowsPerSecond).toFixed(2)) },
  target: 0.5,
  mainThreadProfile: { totalMs: Math.round(totalMs), parts: Object.fromEntries([...partMs].map(([k, v]) => [k, Math.round(v)])) },
  partsAloneMsPerMillionRows: { csvScan: perMillion(scanMs), csvScanAndMapping: perMillion(mapMs), perRowPredictions: perMillion(splitMs), sqliteCommits: perMillion(commitMs) },
};
const day = date.slice(0, 10);
const out = path.join(ROOT, 'bench/results', `${day}-batch-job`);
writeFileSync(`${out}.json`, JSON.stringify(result, null, 2) + '\n');
const m = result.machine;
const md = [
  `# Batch job: ${ROWS.toLocaleString('en')} CSV rows → tabular MLP → SQLite, ${date}`,
  '',
  `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}; load average at the end ${m.loadAverage.join(', ')}.`,
  `Command: \`${result.command}\`. CSV: ${ROWS} rows × (id + 32 features with 6 decimals), ${(csvBytes / 1e6).toFixed(0)} MB; chunks of ${CHUNK_ROWS} rows; requests of 4096 rows.`,
  '',
  '## Raw onnxruntime-node in process (the ceiling)',
  '',
  '| threads | batch | rows/s |',
  '| ---: | ---: | ---: |',
  ...raw.map((r) => `| ${r.threads} | ${r.batch} | ${r.rowsPerSecond.toLocaleString('en')} |`),
  '',
  `Best: ${best.rowsPerSecond.toLocaleString('en')} rows/s (${best.threads} thread${best.threads > 1 ? 's' : ''}, batch ${best.batch}).`,
  '',
  '## `sibyl batch run`',
  '',
  '| run | rows written | seconds (job) | rows/s | process wall time incl. start-up | CPU s (all threads) |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...runs.map((r, i) => `| fresh store ${i + 1} | ${r.written} | ${r.seconds} | ${r.rowsPerSecond.toLocaleString('en')} | ${(r.wallMs / 1000).toFixed(2)} s | ${r.cpuSeconds} |`),
  `| again, into the full store (every row replaced) | ${replaced.written} | ${replaced.seconds} | ${replaced.rowsPerSecond.toLocaleString('en')} | | ${replaced.cpuSeconds} |`,
  '',
  `**Ratio (best run): ${measured.rowsPerSecond.toLocaleString('en')} / ${best.rowsPerSecond.toLocaleString('en')} = ${ratio.toFixed(3)}** (target ≥ 0.5); median run ${median.rowsPerSecond.toLocaleString('en')} rows/s = ${result.medianRatio}.`,
  `CPU per row: the batch job ${result.cpuMicrosecondsPerRow.batchJobMedian} µs (median run, all threads, less the ${result.startupCpuSeconds} CPU s a 1-row run takes to start), raw onnxruntime at its best ${result.cpuMicrosecondsPerRow.rawBest} µs.`,
  '',
  '## Where the time goes',
  '',
  `Main thread of a profiled run (\`node --cpu-prof\`), self time by part, ${Math.round(totalMs)} ms in all (including start-up):`,
  '',
  '| part | ms | share |',
  '| --- | ---: | ---: |',
  ...[...partMs].sort((a, b) => b[1] - a[1]).map(([k, v]) => `| ${k} | ${Math.round(v)} | ${((100 * v) / totalMs).toFixed(1)}% |`),
  '',
  `Each part alone in process (this thread), CPU ms per million rows: CSV scan ${result.partsAloneMsPerMillionRows.csvScan}; scan + mapping to requests ${result.partsAloneMsPerMillionRows.csvScanAndMapping}; per-row predictions from the outputs ${result.partsAloneMsPerMillionRows.perRowPredictions}; SQLite commits ${result.partsAloneMsPerMillionRows.sqliteCommits}. Inference at the best raw setting takes ${Math.round(1_000_000_000 / best.rowsPerSecond)} ms per million rows.`,
  '',
].join('\n');
writeFileSync(`${out}.md`, md);
rmSync(scratch, { recursive: true, force: true });
console.log(md);
