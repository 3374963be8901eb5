// Issue 8's lookup numbers: a SQLite prediction store of N predictions (default 100,000, the
// tabular MLP's 2-float output), written in chunks as a batch job writes them, then served by
// the real `sibyl serve`. Closed-loop load over keep-alive HTTP connections, keys drawn uniformly:
//   - GET /v1/predictions/{model}/{key}                  (one key per request)
//   - POST /v1/predictions/{model}/lookup, 100 keys      (batched)
//   - POST /v2/models/{hybrid endpoint}/infer, by key    (a hybrid endpoint's store hit, no inputs)
// plus the store alone in process (no HTTP) as the ceiling. Writes bench/results/<date>-prediction-lookup.md.
//
//   npx tsx bench/prediction-lookup.ts [secondsPerRun=10] [predictions=100000] [concurrency=16]
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSibyl } from '@sibyl/server/testing';
import { SqlitePredictionStore } from '../packages/server/src/batch/sqlite-prediction-store.ts';
import type { StoredPrediction } from '../packages/server/src/batch/prediction-store.ts';
import { ROOT, machine, repository } from './scenario-tools.ts';

const seconds = Number(process.argv[2] ?? 10);
const N = Number(process.argv[3] ?? 100_000);
const CONCURRENCY = Number(process.argv[4] ?? 16);
const BATCH_KEYS = 100;
const CHUNK = 10_000;
const MODEL = 'tabular_mlp';
const scratch = mkdtempSync(path.join(os.tmpdir(), 'sibyl-lookup-bench-'));
const storeFile = path.join(scratch, 'predictions.sqlite');
const keyOf = (i: number): string => `customer-${String(i).padStart(7, '0')}`;
const randomKey = (): string => keyOf(Math.floor(Math.random() * N));

// 1. The store, written in chunks like a job does (timed: the bulk write rate).
const store = await SqlitePredictionStore.open(storeFile);
const now = Date.now();
let writeMs = 0;
for (let c = 0; c < N; c += CHUNK) {
  const rows: StoredPrediction[] = [];
  for (let i = c; i < Math.min(N, c + CHUNK); i++) {
    const p = Math.fround(Math.random());
    rows.push({ model: MODEL, key: keyOf(i), version: '1', jobId: 'bench', createdAtMs: now, outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [2], data: [p, Math.fround(1 - p)] }] });
  }
  const t = performance.now();
  await store.commitChunk('bench', c / CHUNK, rows);
  writeMs += performance.now() - t;
}

// 2. The store alone, in process.
function inProcess(keysPerCall: number, ms: number): Promise<{ callsPerSecond: number; p99Us: number }> {
  return (async () => {
    const latencies: number[] = [];
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const keys = Array.from({ length: keysPerCall }, randomKey);
      const t = performance.now();
      const found = await store.lookup(MODEL, keys);
      latencies.push(performance.now() - t);
      if (found.size === 0) throw new Error('a lookup found nothing');
    }
    latencies.sort((a, b) => a - b);
    return { callsPerSecond: latencies.length / (ms / 1000), p99Us: latencies[Math.floor(latencies.length * 0.99)]! * 1000 };
  })();
}
const direct1 = await inProcess(1, 3000);
const direct100 = await inProcess(BATCH_KEYS, 3000);
await store.close();

// 3. The server.
const repo = repository(scratch, 'models', { [MODEL]: { artifact: path.join(ROOT, 'examples/models/tabular_mlp/1/model.onnx') } });
const config = path.join(scratch, 'sibyl.yaml');
writeFileSync(
  config,
  [`modelRepository: ${repo}`, 'stateStore: ":memory:"', `predictionStore: { path: ${storeFile} }`, 'metrics: { enabled: true }', 'endpoints:', '  scores:', '    hybrid:', `      target: { model: ${MODEL} }`, '      key: { parameter: customer_id }', '      maxAgeMs: 90000000', ''].join('\n'),
);
const server = await spawnSibyl(['--config', config, '--log-level', 'info'], { timeoutMs: 120_000 });
const url = new URL(server.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

interface Req {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

function send(r: Req): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: r.method, path: r.path, agent, headers: r.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(r.body) } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end(r.body);
  });
}

interface Result {
  requestsPerSecond: number;
  keysPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** Closed loop: CONCURRENCY workers, each one request at a time, for `seconds` after 2 s of warm-up. */
async function load(make: () => Req, keysPerRequest: number): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const r = make();
      const t = performance.now();
      const status = await send(r);
      if (!measuring) continue;
      if (status !== 200) errors++;
      latencies.push(performance.now() - t);
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  measuring = true;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const elapsed = (performance.now() - started) / 1000;
  stop = true;
  await Promise.all(workers);
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
  return { requestsPerSecond: latencies.length / elapsed, keysPerSecond: (latencies.length * keysPerRequest) / elapsed, p50Ms: q(0.5), p99Ms: q(0.99), errors };
}

const get = await load(() => ({ method: 'GET', path: `/v1/predictions/${MODEL}/${randomKey()}` }), 1);
const batched = await load(() => ({ method: 'POST', path: `/v1/predictions/${MODEL}/lookup`, body: JSON.stringify({ keys: Array.from({ length: BATCH_KEYS }, randomKey) }) }), BATCH_KEYS);
const hybrid = await load(() => ({ method: 'POST', path: '/v2/models/scores/infer', body: JSON.stringify({ parameters: { customer_id: randomKey() } }) }), 1);
agent.destroy();
const exit = await server.stop();
rmSync(scratch, { recursive: true, force: true });

const m = machine();
const date = new Date().toISOString().slice(0, 10);
const f = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const lines = [
  `# Prediction lookups: ${date}`,
  '',
  `\`npx tsx bench/prediction-lookup.ts ${seconds} ${N} ${CONCURRENCY}\` — ${m.cores} cores (${m.cpu ?? 'unknown CPU'}), ${m.memoryGiB} GiB, Node ${m.node}. The load generator runs on the same machine as the server (one process, keep-alive connections); every HTTP run ${seconds} s after 2 s of warm-up, closed loop at concurrency ${CONCURRENCY}, keys uniform over the store.`,
  '',
  `Store: SQLite (WAL), ${f(N)} predictions of \`${MODEL}\` (one 2-float FP32 output each), written in chunks of ${f(CHUNK)} in ${f(writeMs)} ms: ${f(N / (writeMs / 1000))} rows/s.`,
  '',
  '| run | req/s | keys/s | p50 ms | p99 ms | errors |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  `| GET /v1/predictions/{model}/{key} | ${f(get.requestsPerSecond)} | ${f(get.keysPerSecond)} | ${f(get.p50Ms, 2)} | ${f(get.p99Ms, 2)} | ${get.errors} |`,
  `| POST /v1/predictions/{model}/lookup, ${BATCH_KEYS} keys | ${f(batched.requestsPerSecond)} | ${f(batched.keysPerSecond)} | ${f(batched.p50Ms, 2)} | ${f(batched.p99Ms, 2)} | ${batched.errors} |`,
  `| hybrid endpoint, store hit by key (V2 infer, no inputs) | ${f(hybrid.requestsPerSecond)} | ${f(hybrid.keysPerSecond)} | ${f(hybrid.p50Ms, 2)} | ${f(hybrid.p99Ms, 2)} | ${hybrid.errors} |`,
  '',
  `The store alone, in process (no HTTP): 1 key per lookup ${f(direct1.callsPerSecond)} lookups/s (p99 ${f(direct1.p99Us, 1)} µs); ${BATCH_KEYS} keys per lookup ${f(direct100.callsPerSecond)} lookups/s = ${f(direct100.callsPerSecond * BATCH_KEYS)} keys/s (p99 ${f(direct100.p99Us, 1)} µs).`,
  '',
  `Server exit code: ${exit}.`,
  '',
];
const out = path.join(ROOT, 'bench/results', `${date}-prediction-lookup.md`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, lines.join('\n'));
console.log(lines.join('\n'));
console.error(`wrote ${out}`);
