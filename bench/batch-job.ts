// Issue 8's batch target: a 1,000,000-row CSV scored with the tabular MLP into SQLite by
// `sibyl batch run` (the real binary), against raw onnxruntime-node in process at its best batch
// size (1 and 2 intra-op threads, batches up to 8192), measured in the same run. Then where the
// time goes: a CPU profile of the main thread of a second run, grouped by part, and each part
// alone in process (CSV scan, scan + mapping, building per-row predictions, SQLite commits).
// Writes bench/results/<date>-batch-job.{json,md}.
//
//   npx tsx bench/batch-job.ts [rows=1000000] [secondsPerRawSetting=3]
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
  const child = spawn(process.execPath, [...nodeArgs, SIBYL, 'batch', 'run', jobFile, '--fresh', '--progress-interval-ms', '1000000', ...args], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ wallMs: performance.now() - started, out, code })));
}
const parseRun = (out: string): { seconds: number; rowsPerSecond: number; written: number } => {
  const time = /time +\S+ \(([\d.]+) s\), (\d+) rows\/s/.exec(out);
  const rows = /(\d+) written/.exec(out);
  if (time === null || rows === null) throw new Error(`unexpected output of sibyl batch run:\n${out}`);
  return { seconds: Number(time[1]), rowsPerSecond: Number(time[2]), written: Number(rows[1]) };
};
const runs: { seconds: number; rowsPerSecond: number; written: number; wallMs: number }[] = [];
for (let i = 0; i < 2; i++) {
  rmSync(path.join(scratch, 'predictions.sqlite'), { force: true });
  rmSync(path.join(scratch, 'predictions.sqlite-wal'), { force: true });
  const r = await runCli([]);
  if (r.code !== 0) throw new Error(`sibyl batch run failed:\n${r.out}`);
  runs.push({ ...parseRun(r.out), wallMs: Math.round(r.wallMs) });
}
const measured = runs.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
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
const timeIt = async (fn: () => Promise<void>): Promise<number> => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const signature = { inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [-1, 32] }], maxBatchSize: 64 };
const mapper = new RowMapper([{ input: 'input', columns: FEATURES }], ['id'], signature, 'tabular_mlp');
const scanMs = await timeIt(async () => {
  for await (const c of CsvSource.create(csv, { columns: ['id', ...FEATURES], textColumns: ['id'] }).chunks({ chunkRows: CHUNK_ROWS })) void c;
});
const mapMs = await timeIt(async () => {
  for await (const c of CsvSource.create(csv, { columns: ['id', ...FEATURES], textColumns: ['id'] }).chunks({ chunkRows: CHUNK_ROWS })) {
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
  let t = performance.now();
  const perRow = splitOutputs(outputs, CHUNK_ROWS);
  const predictions: StoredPrediction[] = perRow.map((o, i) => ({ model: 'tabular_mlp', key: `cust${c * CHUNK_ROWS + i}`, version: '1', outputs: o, jobId: 'bench', createdAtMs: Date.now() }));
  splitMs += performance.now() - t;
  t = performance.now();
  await store.commitChunk('bench', c, predictions);
  commitMs += performance.now() - t;
}
await store.close();
const perMillion = (ms: number): number => Math.round((ms * 1_000_000) / ROWS);

// 5. Record.
const date = new Date().toISOString();
const ratio = measured.rowsPerSecond / best.rowsPerSecond;
const result = {
  date,
  machine: { ...machine(), loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))) },
  command: `npx tsx bench/batch-job.ts ${ROWS} ${RAW_SECONDS}`,
  rows: ROWS,
  csvBytes,
  chunkRows: CHUNK_ROWS,
  raw,
  bestRaw: best,
  batchRuns: runs,
  batchRerunIntoFullStore: replaced,
  batch: measured,
  ratio: Number(ratio.toFixed(3)),
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
  '| run | rows written | seconds (job) | rows/s | process wall time incl. start-up |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...runs.map((r, i) => `| fresh store ${i + 1} | ${r.written} | ${r.seconds} | ${r.rowsPerSecond.toLocaleString('en')} | ${(r.wallMs / 1000).toFixed(2)} s |`),
  `| again, into the full store (every row replaced) | ${replaced.written} | ${replaced.seconds} | ${replaced.rowsPerSecond.toLocaleString('en')} | |`,
  '',
  `**Ratio: ${measured.rowsPerSecond.toLocaleString('en')} / ${best.rowsPerSecond.toLocaleString('en')} = ${ratio.toFixed(3)}** (target ≥ 0.5).`,
  '',
  '## Where the time goes',
  '',
  `Main thread of a profiled run (\`node --cpu-prof\`), self time by part, ${Math.round(totalMs)} ms in all (including start-up):`,
  '',
  '| part | ms | share |',
  '| --- | ---: | ---: |',
  ...[...partMs].sort((a, b) => b[1] - a[1]).map(([k, v]) => `| ${k} | ${Math.round(v)} | ${((100 * v) / totalMs).toFixed(1)}% |`),
  '',
  `Each part alone in process, ms per million rows: CSV scan ${result.partsAloneMsPerMillionRows.csvScan}; scan + mapping to requests ${result.partsAloneMsPerMillionRows.csvScanAndMapping}; per-row predictions from the outputs ${result.partsAloneMsPerMillionRows.perRowPredictions}; SQLite commits ${result.partsAloneMsPerMillionRows.sqliteCommits}. Inference at the best raw setting takes ${Math.round(1_000_000_000 / best.rowsPerSecond)} ms per million rows.`,
  '',
].join('\n');
writeFileSync(`${out}.md`, md);
rmSync(scratch, { recursive: true, force: true });
console.log(md);
