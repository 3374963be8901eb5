// Soak: mixed traffic against a real `sibyl serve` on 127.0.0.1 for a while, sampling the
// server's memory, handles and event-loop delay, then a verdict: resource use flat within a band
// over the last two thirds, and no failed request except those caused on purpose (none by
// default). See README.md here for the figures recorded and how to read them.
//
//   npx tsx bench/soak/run.ts [--duration-minutes 30] [--sample-seconds 5] [--rate 40] [--out file.json]
//
// Traffic (each paced, `--rate` requests/s per kind, so it loads the server without owning the
// machine): REST JSON (iris), REST binary tensors (mlp), gRPC (mlp), an endpoint with a canary
// (iris-canary: stable iris@stable, candidate iris:2, stages of 20 s), a model loaded, asked and
// unloaded every few seconds (explicit control mode), and a batch job every minute (3000 rows
// into the server's prediction store). The prediction log samples iris. Every answer is checked
// against the model's expected outputs: a wrong answer counts as a failure.
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SibylClient, type InferRequest, type InferResponse } from '@sibyl/client';
import { grpcClient } from '@sibyl/client/grpc';
import {
  linearClassifierExpected,
  linearClassifierModel,
  makeTempDir,
  parsePrometheusText,
  removeDir,
  sampleValue,
  seededRandom,
  spawnSibyl,
  writeModelRepository,
} from '@sibyl/server/testing';
import { verdict, DEFAULT_BAND, type Sample } from './analysis.ts';

const { values: args } = parseArgs({
  options: {
    'duration-minutes': { type: 'string', default: '30' },
    'sample-seconds': { type: 'string', default: '5' },
    rate: { type: 'string', default: '40' },
    'lifecycle-seconds': { type: 'string', default: '3' },
    'batch-every-seconds': { type: 'string', default: '60' },
    out: { type: 'string' },
  },
});
const durationMs = Number(args['duration-minutes']) * 60_000;
const sampleMs = Number(args['sample-seconds']) * 1000;
const rate = Number(args.rate);
const lifecycleMs = Number(args['lifecycle-seconds']) * 1000;
const batchEveryMs = Number(args['batch-every-seconds']) * 1000;
for (const [name, v] of Object.entries({ durationMs, sampleMs, rate, lifecycleMs, batchEveryMs })) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
}

// Models: iris (4 → 3, two versions for the canary), mlp (32 → 4), churn (toggled).
const random = seededRandom(13);
const matrix = (n: number, k: number) => Array.from({ length: n }, () => Array.from({ length: k }, () => Math.round((random() * 2 - 1) * 100) / 100));
const IRIS = { weights: matrix(4, 3), bias: [0.1, 0, -0.1] };
const MLP = { weights: matrix(32, 4), bias: [0, 0.5, -0.5, 0.25] };
const CHURN = { weights: matrix(8, 2), bias: [0, 0] };

const scratch = await makeTempDir('sibyl-soak-');
const repo = path.join(scratch, 'models');
await writeModelRepository(repo, {
  iris: { versions: { 1: linearClassifierModel(IRIS).bytes, 2: linearClassifierModel(IRIS).bytes }, config: 'versionPolicy: { all: true }\nlabels: { stable: 1 }\npredictionLog: { sampleRate: 0.1 }\n' },
  mlp: { versions: { 1: linearClassifierModel(MLP).bytes } },
  churn: { versions: { 1: linearClassifierModel(CHURN).bytes } },
});
// Under the sandbox's source root (sandbox.sourceRoots below): a job sent over the API reads nothing else.
mkdirSync(path.join(scratch, 'data'));
const csv = path.join(scratch, 'data', 'rows.csv');
const batchRows = 3000;
writeFileSync(csv, [['id', ...Array.from({ length: 32 }, (_, i) => `f${i}`)].join(','), ...Array.from({ length: batchRows }, (_, r) => [`r${r}`, ...Array.from({ length: 32 }, (_, i) => ((r + i) % 9) / 9)].join(','))].join('\n') + '\n');
const configFile = path.join(scratch, 'sibyl.yaml');
writeFileSync(
  configFile,
  `modelRepository: ${repo}
modelControlMode: explicit
loadModels: [iris, mlp]
stateStore: ${path.join(scratch, 'state.sqlite')}
predictionStore: { backend: sqlite, path: ${path.join(scratch, 'predictions.sqlite')} }
predictionLog: { sink: sqlite, path: ${path.join(scratch, 'log.sqlite')} }
sandbox: { sourceRoots: [data] }
endpoints:
  iris-canary:
    canary:
      stable: { model: iris, label: stable }
      candidate: { model: iris, version: 2 }
      stages: [10, 50, 100]
      stageDurationMs: 20000
      analysis: { minSamples: 20 }
`,
);

const server = await spawnSibyl(['--config', configFile], { timeoutMs: 60_000 });
const pid = server.process.pid;
const rest = SibylClient.rest(server.url);
const grpc = grpcClient(server.grpcAddress);

// Outcomes by traffic kind: 'ok', 'wrong answer', or the error's reason/code.
const outcomes: Record<string, Record<string, number>> = {};
const record = (kind: string, outcome: string): void => {
  const k = (outcomes[kind] ??= {});
  k[outcome] = (k[outcome] ?? 0) + 1;
};
const describe = (err: unknown): string => {
  const e = err as { reason?: string; code?: string; message?: string };
  return e.reason ?? e.code ?? String(e.message ?? err).slice(0, 120);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function request(features: number, row: number, rows = 1): { request: InferRequest; input: number[][] } {
  const input = Array.from({ length: rows }, (_, r) => Array.from({ length: features }, (_, i) => (((row + r) * 7 + i) % 11) / 11));
  return { request: { inputs: [{ name: 'features', datatype: 'FP32', shape: [rows, features], data: Float32Array.from(input.flat()) }] }, input };
}

function correct(response: InferResponse, model: { weights: number[][]; bias: number[] }, input: number[][]): boolean {
  const logits = response.outputs.find((o) => o.name === 'logits');
  if (logits === undefined) return false;
  const expected = linearClassifierExpected(model.weights, model.bias, input).logits.flat();
  const got = [...(logits.data as Float32Array)];
  return got.length === expected.length && got.every((v, i) => Math.abs(v - expected[i]!) <= 1e-3 * Math.max(1, Math.abs(expected[i]!)));
}

const startedAt = performance.now();
const endAt = startedAt + durationMs;
const running = () => performance.now() < endAt;

/** Calls `op` every `intervalMs` (paced: the next call starts `intervalMs` after the last began). */
async function paced(intervalMs: number, op: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; running(); i++) {
    const began = performance.now();
    await op(i);
    await sleep(Math.max(0, intervalMs - (performance.now() - began)));
  }
}

async function inferKind(kind: string, client: SibylClient, modelName: string, model: { weights: number[][]; bias: number[] }, binary: boolean | undefined, i: number): Promise<void> {
  const { request: body, input } = request(model.weights.length, i, 1 + (i % 4));
  try {
    const response = await client.infer(modelName, body, { binary, retry: false, timeoutMs: 10_000 });
    record(kind, correct(response, model, input) ? 'ok' : 'wrong answer');
  } catch (err) {
    record(kind, describe(err));
  }
}

const workersPerKind = 2;
const intervalMs = (1000 * workersPerKind) / rate;
const traffic: Promise<void>[] = [];
for (let w = 0; w < workersPerKind; w++) {
  traffic.push(paced(intervalMs, (i) => inferKind('rest-json iris', rest, 'iris', IRIS, false, i * 2 + w)));
  traffic.push(paced(intervalMs, (i) => inferKind('rest-binary mlp', rest, 'mlp', MLP, true, i * 2 + w)));
  traffic.push(paced(intervalMs, (i) => inferKind('grpc mlp', grpc, 'mlp', MLP, undefined, i * 2 + w)));
  traffic.push(paced(intervalMs, (i) => inferKind('endpoint iris-canary', rest, 'iris-canary', IRIS, false, i * 2 + w)));
}

// A model loaded, asked once and unloaded, every lifecycleMs.
traffic.push(
  paced(lifecycleMs, async (i) => {
    try {
      await rest.loadModel('churn', { retry: false });
      record('lifecycle load', 'ok');
    } catch (err) {
      record('lifecycle load', describe(err));
      return;
    }
    await inferKind('lifecycle infer churn', rest, 'churn', CHURN, false, i);
    await sleep(lifecycleMs / 3);
    try {
      await rest.unloadModel('churn', { retry: false });
      record('lifecycle unload', 'ok');
    } catch (err) {
      record('lifecycle unload', describe(err));
    }
  }),
);

// A batch job every batchEveryMs, followed to its end.
traffic.push(
  paced(batchEveryMs, async (i) => {
    const spec = {
      name: `soak-${i}`,
      source: { csv },
      key: 'id',
      inputs: { features: { columns: Array.from({ length: 32 }, (_, c) => `f${c}`) } },
      target: { model: 'mlp' },
      chunkRows: 1000,
      rejects: path.join(scratch, `soak-${i}.rejects.jsonl`),
    };
    try {
      const started = await fetch(`${server.url}/v1/batch/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
      const job = (await started.json()) as { id?: string; reason?: string };
      if (started.status !== 202 || job.id === undefined) return record('batch job', `start ${started.status} ${job.reason ?? ''}`);
      for (;;) {
        await sleep(500);
        const view = (await (await fetch(`${server.url}/v1/batch/jobs/${job.id}`)).json()) as { status: string; rowsWritten: number; error?: string };
        if (view.status === 'queued' || view.status === 'running') continue;
        return record('batch job', view.status === 'succeeded' && view.rowsWritten === batchRows ? 'ok' : `${view.status} ${view.rowsWritten} rows ${view.error ?? ''}`);
      }
    } catch (err) {
      record('batch job', describe(err));
    }
  }),
);

// Samples of the server process, from its /metrics (prom-client's process and Node.js metrics).
const samples: Sample[] = [];
async function takeSample(): Promise<void> {
  try {
    const families = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
    const value = (name: string) => sampleValue(families, name) ?? Number.NaN;
    samples.push({
      t: (performance.now() - startedAt) / 1000,
      rssBytes: value('process_resident_memory_bytes'),
      heapUsedBytes: value('nodejs_heap_size_used_bytes'),
      activeHandles: value('nodejs_active_handles_total'),
      eventLoopP99Ms: value('nodejs_eventloop_lag_p99_seconds') * 1000,
    });
    const last = samples.at(-1)!;
    const total = Object.values(outcomes).reduce((s, o) => s + Object.values(o).reduce((a, b) => a + b, 0), 0);
    console.log(`${last.t.toFixed(0).padStart(5)} s  rss ${(last.rssBytes / 2 ** 20).toFixed(1)} MiB  heap ${(last.heapUsedBytes / 2 ** 20).toFixed(1)} MiB  handles ${last.activeHandles}  loop p99 ${last.eventLoopP99Ms.toFixed(1)} ms  requests ${total}`);
  } catch (err) {
    record('metrics scrape', describe(err));
  }
}
const sampler = paced(sampleMs, takeSample);

const loadStart = os.loadavg();
await Promise.all(traffic);
await sampler;
await takeSample();
const loadEnd = os.loadavg();
rest.close();
grpc.close();
const exitCode = await server.stop();
record('server exit', exitCode === 0 ? 'ok' : `exit code ${exitCode}`);
await removeDir(scratch);

const failed = Object.values(outcomes).reduce((s, o) => s + Object.entries(o).reduce((a, [k, n]) => a + (k === 'ok' ? 0 : n), 0), 0);
const result = {
  command: `npx tsx bench/soak/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadavgAtStart: loadStart, loadavgAtEnd: loadEnd },
  settings: { durationMinutes: durationMs / 60_000, sampleSeconds: sampleMs / 1000, ratePerKind: rate, lifecycleSeconds: lifecycleMs / 1000, batchEverySeconds: batchEveryMs / 1000, serverPid: pid },
  band: DEFAULT_BAND,
  outcomes,
  verdict: verdict(samples, failed),
  samples,
};
const out = args.out ?? path.join(import.meta.dirname, 'results', `soak-${result.settings.durationMinutes}min-${result.date.slice(0, 16).replace(/[:T]/g, '')}.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
const v = result.verdict;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
console.log(JSON.stringify(outcomes, null, 1));
console.log(
  `RSS ${mib(v.rss.min)}–${mib(v.rss.max)}, slope ${mib(v.rss.slopePerMinute)}/min (growth ${mib(v.rss.projectedGrowth)} ≤ ${mib(v.rss.allowedGrowth)}: ${v.rss.flat}); ` +
    `heap ${mib(v.heap.min)}–${mib(v.heap.max)}, slope ${mib(v.heap.slopePerMinute)}/min (${v.heap.flat}); handles ${v.handles.warmupMax} → ${v.handles.steadyMax} (${v.handles.flat}); ` +
    `loop p99 median ${v.eventLoopP99Ms.median.toFixed(1)} ms, max ${v.eventLoopP99Ms.max.toFixed(1)} ms; failed requests ${failed}`,
);
console.log(`${v.pass ? 'PASS' : 'FAIL'}: written ${path.relative(process.cwd(), out)}`);
process.exitCode = v.pass ? 0 : 1;
