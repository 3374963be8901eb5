// Issue 6's throughput target: the tabular MLP at concurrency 64 with metrics, sampled prediction
// logging (SQLite) and drift monitoring on, against all of it off, in one run: two servers side
// by side, bench runs alternating between them (on/off, then off/on, …), medians compared.
// Also compares histogram_quantile over the exported request-duration buckets of one run with
// the latencies `sibyl bench` measured in it. Writes bench/results/<date>-observability.{json,md}.
//
//   npx tsx bench/observability-overhead.ts [secondsPerRun=10] [repetitions=5] [sampleRate=0.01]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { histogramBuckets, histogramQuantile, parsePrometheusText, spawnSibyl, type SpawnedServer } from '@sibyl/server/testing';
import { ROOT, bench, machine, repository, type BenchSummary } from './scenario-tools.ts';

const seconds = Number(process.argv[2] ?? 10);
const repetitions = Number(process.argv[3] ?? 5);
const sampleRate = Number(process.argv[4] ?? 0.01);
const CONCURRENCY = 64;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'sibyl-observability-'));
const artifact = path.join(ROOT, 'examples/models/tabular_mlp/1/model.onnx');

const onConfig = [
  'predictionLog:',
  `  sampleRate: ${sampleRate}`,
  'drift:',
  '  baselineRows: 1000',
  '  windowRows: 1000',
  '',
].join('\n');
const offRepo = repository(scratch, 'off', { tabular_mlp: { artifact } });
const onRepo = repository(scratch, 'on', { tabular_mlp: { artifact, config: onConfig } });

const start = (repo: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<SpawnedServer> =>
  spawnSibyl(['--model-repository', repo, '--log-level', 'info', '--state-store', ':memory:', ...extra], { env, timeoutMs: 120_000 });
const off = await start(offRepo, { SIBYL_METRICS_ENABLED: 'false' });
const on = await start(onRepo, { SIBYL_METRICS_ENABLED: 'true' }, ['--prediction-log-path', path.join(scratch, 'predictions.sqlite')]);

/**
 * CPU time (user + system, all threads) a process has used, in ms, from /proc. On a shared
 * machine, CPU per request is a steadier measure of overhead than throughput.
 */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}
const CLOCK_TICKS_PER_SECOND = 100;

const runs: { mode: 'on' | 'off'; repetition: number; result: BenchSummary; serverCpuUsPerRequest: number }[] = [];
for (let rep = 0; rep < repetitions; rep++) {
  const order = rep % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
  for (const mode of order) {
    const server = mode === 'on' ? on : off;
    const cpuBefore = cpuMs(server.process.pid!);
    const result = await bench(scratch, server.url, 'tabular_mlp', CONCURRENCY, seconds);
    // Includes the 2 s of warm-up, whose requests the result does not count: scaled by time.
    const cpu = cpuMs(server.process.pid!) - cpuBefore;
    const serverCpuUsPerRequest = (cpu * 1000) / (result.requestsPerSecond * (seconds + 2));
    runs.push({ mode, repetition: rep, result, serverCpuUsPerRequest });
    console.error(
      `${mode} #${rep}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${serverCpuUsPerRequest.toFixed(1)} µs CPU/request, ${result.errors} errors`,
    );
  }
}

// histogram_quantile over the buckets of exactly one bench run (scrape before and after, subtract).
async function scrape(server: SpawnedServer): Promise<{ le: number; count: number }[]> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return histogramBuckets(parsePrometheusText(text), 'sibyl_inference_request_duration_seconds', { model: 'tabular_mlp', version: '1' });
}
const agreement: Record<string, unknown> = {};
for (const c of [1, CONCURRENCY]) {
  const before = await scrape(on);
  // No warm-up here: every request of the run is in the buckets and in the bench's own histogram.
  const measured = await bench(scratch, on.url, 'tabular_mlp', c, seconds, ['--warmup-seconds', '0']);
  const after = await scrape(on);
  const delta = after.map((b, i) => ({ le: b.le, count: b.count - before[i]!.count }));
  const q = (p: number) => Number((histogramQuantile(p, delta) * 1000).toFixed(3));
  agreement[`c${c}`] = {
    bench: { p50Ms: measured.p50Ms, p95Ms: measured.p95Ms, p99Ms: measured.p99Ms },
    histogramQuantile: { p50Ms: q(0.5), p95Ms: q(0.95), p99Ms: q(0.99) },
    requests: delta.at(-1)!.count,
  };
  console.error(`c${c}: ${JSON.stringify(agreement[`c${c}`])}`);
}
const predictionsLogged = (await (await fetch(`${on.url}/v1/models/tabular_mlp/predictions?limit=10000`)).json()) as { predictions: unknown[] };
const drift = (await (await fetch(`${on.url}/v1/models/tabular_mlp/drift`)).json()) as { state: string; window: unknown };
await Promise.all([on.stop(), off.stop()]);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const medianOf = (mode: 'on' | 'off', key: keyof BenchSummary) => median(runs.filter((r) => r.mode === mode).map((r) => r.result[key]));
const medianCpu = (mode: 'on' | 'off') => median(runs.filter((r) => r.mode === mode).map((r) => r.serverCpuUsPerRequest));
const summary = {
  onRequestsPerSecond: medianOf('on', 'requestsPerSecond'),
  offRequestsPerSecond: medianOf('off', 'requestsPerSecond'),
  onP99Ms: medianOf('on', 'p99Ms'),
  offP99Ms: medianOf('off', 'p99Ms'),
  onCpuUsPerRequest: medianCpu('on'),
  offCpuUsPerRequest: medianCpu('off'),
};
const ratio = summary.onRequestsPerSecond / summary.offRequestsPerSecond;
const date = new Date().toISOString();
const command = `npx tsx bench/observability-overhead.ts ${seconds} ${repetitions} ${sampleRate}`;
const outDir = path.join(ROOT, 'bench/results');
mkdirSync(outDir, { recursive: true });
const base = path.join(outDir, `${date.slice(0, 10)}-observability`);
const others = os.loadavg();
writeFileSync(`${base}.json`, `${JSON.stringify({ date, machine: machine(), loadAverageAtEnd: others, command, onConfig, runs, summary, ratio, agreement, predictionsLogged: predictionsLogged.predictions.length, drift }, null, 2)}\n`);
const row = (r: (typeof runs)[number]) =>
  `| ${r.repetition} | ${r.mode} | ${Math.round(r.result.requestsPerSecond)} | ${r.result.p50Ms.toFixed(2)} | ${r.result.p99Ms.toFixed(2)} | ${r.serverCpuUsPerRequest.toFixed(1)} | ${r.result.errors} |`;
const agreeRow = (name: string) => {
  const a = agreement[name] as { bench: Record<string, number>; histogramQuantile: Record<string, number>; requests: number };
  return `| ${name} | ${a.requests} | ${(['p50Ms', 'p95Ms', 'p99Ms'] as const).map((k) => `${a.bench[k]!.toFixed(2)} / ${a.histogramQuantile[k]!.toFixed(2)}`).join(' | ')} |`;
};
const md = [
  `# Observability overhead, ${date}`,
  '',
  `Machine: ${machine().cores} cores (${machine().cpu}), ${machine().memoryGiB} GiB, Node ${process.version}; load average at the end ${others.map((l) => l.toFixed(2)).join(', ')}.`,
  `Command: \`${command}\`. Tabular MLP, closed loop, concurrency ${CONCURRENCY}, ${seconds} s per run after 2 s of warm-up.`,
  `"on": metrics, prediction log (sampleRate ${sampleRate}, SQLite) and drift (baseline 1000 rows, windows of 1000); "off": metrics.enabled false, no predictionLog or drift section.`,
  '',
  '| repetition | mode | req/s | p50 ms | p99 ms | server CPU µs/request | errors |',
  '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ...runs.map(row),
  '',
  `Medians: on ${Math.round(summary.onRequestsPerSecond)} req/s (p99 ${summary.onP99Ms.toFixed(2)} ms), off ${Math.round(summary.offRequestsPerSecond)} req/s (p99 ${summary.offP99Ms.toFixed(2)} ms): on/off = ${ratio.toFixed(3)} (target ≥ 0.90).`,
  `Server CPU per request (all threads, medians): on ${summary.onCpuUsPerRequest.toFixed(1)} µs, off ${summary.offCpuUsPerRequest.toFixed(1)} µs: on/off = ${(summary.onCpuUsPerRequest / summary.offCpuUsPerRequest).toFixed(3)}.`,
  '',
  'histogram_quantile over the request-duration buckets of one run against what `sibyl bench` measured in it (bench / histogram, ms):',
  '',
  '| run | requests | p50 | p95 | p99 |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...Object.keys(agreement).map(agreeRow),
  '',
  `Prediction log records written: ${predictionsLogged.predictions.length} (capped at 10000 by the query). Drift state: ${drift.state}.`,
  '',
].join('\n');
writeFileSync(`${base}.md`, md);
console.log(md);
rmSync(scratch, { recursive: true, force: true });
