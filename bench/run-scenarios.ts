// The benchmark scenarios of bench/README.md, in one run so that ratios compare like with like:
// the HTTP ceiling (bare Fastify), the compute ceilings (onnxruntime in process), Sibyl on the
// tabular MLP (batching on and off) and on a ResNet-18-shaped CNN, with /v2/health/live probed
// during the heaviest load. Writes bench/results/<date>-scenarios.{json,md}.
//
//   npx tsx bench/models-src/build-resnet18.ts   # once
//   npx tsx bench/run-scenarios.ts [secondsPerRun=10]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSibyl, type SpawnedServer } from '@sibyl/server/testing';
import { ROOT, bench as benchRun, machine as machineInfo, repository as repositoryIn, runNode, type BenchSummary } from './scenario-tools.ts';

const seconds = Number(process.argv[2] ?? 10);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'sibyl-scenarios-'));
const bench = (url: string, model: string, concurrency: number, extra: string[] = []): Promise<BenchSummary> => benchRun(scratch, url, model, concurrency, seconds, extra);
const repository = (name: string, models: Record<string, { artifact: string; config?: string }>): string => repositoryIn(scratch, name, models);

function startBareFastify(port: number): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/servers/bare-fastify.ts'), String(port)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout!.setEncoding('utf8').once('data', (line: string) => resolve({ url: (JSON.parse(line) as { url: string }).url, child }));
    child.once('exit', (code) => reject(new Error(`bare-fastify exited with ${code}`)));
  });
}

async function withSibyl<T>(repo: string, fn: (server: SpawnedServer) => Promise<T>): Promise<T> {
  const server = await spawnSibyl(['--model-repository', repo, '--log-level', 'info'], { timeoutMs: 120_000 });
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/** Probes GET /v2/health/live one after another, every 10 ms, until `until` resolves. */
async function probeLive(url: string, until: Promise<unknown>): Promise<{ probes: number; p50Ms: number; p99Ms: number; maxMs: number }> {
  let done = false;
  void until.finally(() => (done = true));
  const latencies: number[] = [];
  await new Promise((resolve) => setTimeout(resolve, 3000)); // past the bench warm-up
  while (!done) {
    const t0 = performance.now();
    const res = await fetch(`${url}/v2/health/live`);
    await res.arrayBuffer();
    latencies.push(performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2));
  return { probes: latencies.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: Number(latencies.at(-1)!.toFixed(2)) };
}

const tabularArtifact = path.join(ROOT, 'examples/models/tabular_mlp/1/model.onnx');
const resnetArtifact = path.join(ROOT, 'bench/models/resnet18/1/model.onnx');
const results: Record<string, unknown> = {};
const log = (name: string, value: unknown) => {
  results[name] = value;
  console.error(`${name}: ${JSON.stringify(value)}`);
};

// 1. Ceilings.
const bare = await startBareFastify(8299);
for (const c of [1, 16, 64]) log(`http-ceiling/tabular/c${c}`, await bench(bare.url, 'tabular_mlp', c));
bare.child.kill('SIGTERM');
log('compute-ceiling/tabular', JSON.parse(await runNode(['--import', 'tsx', 'bench/compute-ceiling.ts', tabularArtifact, 'input', '32', '3'])).best);
log('compute-ceiling/resnet18', JSON.parse(await runNode(['--import', 'tsx', 'bench/compute-ceiling.ts', resnetArtifact, 'input', '3,224,224', '5'])).best);

// 2. Sibyl, tabular MLP, default configuration (as shipped in examples/).
await withSibyl(repository('tabular', { tabular_mlp: { artifact: tabularArtifact } }), async (s) => {
  for (const c of [1, 16, 64]) log(`sibyl/tabular/c${c}`, await bench(s.url, 'tabular_mlp', c));
});
await withSibyl(repository('tabular-nobatch', { tabular_mlp: { artifact: tabularArtifact, config: 'dynamicBatching:\n  enabled: false\n' } }), async (s) => {
  log('sibyl-batching-off/tabular/c64', await bench(s.url, 'tabular_mlp', 64));
});

// 3. Sibyl, ResNet-18-shaped CNN, binary tensors; /v2/health/live probed during concurrency 16.
const resnetConfig = 'dynamicBatching:\n  maxQueueDelayMs: 5\n';
await withSibyl(repository('resnet', { resnet18: { artifact: resnetArtifact, config: resnetConfig } }), async (s) => {
  for (const c of [1, 4]) log(`sibyl/resnet18/c${c}`, await bench(s.url, 'resnet18', c, ['--binary']));
  const load = bench(s.url, 'resnet18', 16, ['--binary']);
  const live = await probeLive(s.url, load);
  log('sibyl/resnet18/c16', await load);
  log('sibyl/resnet18/c16/health-live', live);
});

const machine = machineInfo();
const date = new Date().toISOString();
const outDir = path.join(ROOT, 'bench/results');
mkdirSync(outDir, { recursive: true });
const base = path.join(outDir, `${date.slice(0, 10)}-scenarios`);
writeFileSync(`${base}.json`, `${JSON.stringify({ date, machine, command: `npx tsx bench/run-scenarios.ts ${seconds}`, resnetConfig, results }, null, 2)}\n`);

const r = results as Record<string, BenchSummary & { rowsPerSecond: number }>;
const row = (name: string) => {
  const v = r[name]!;
  return `| ${name} | ${Math.round(v.requestsPerSecond)} | ${Math.round(v.rowsPerSecond)} | ${v.p50Ms.toFixed(2)} | ${v.p99Ms.toFixed(2)} | ${v.errors} |`;
};
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const md = [
  `# Scenarios, ${date}`,
  '',
  `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}. Command: \`npx tsx bench/run-scenarios.ts ${seconds}\`.`,
  '',
  '| run | req/s | rows/s | p50 ms | p99 ms | errors |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...Object.keys(results).filter((k) => !k.startsWith('compute') && !k.endsWith('health-live')).map(row),
  '',
  `Compute ceilings: tabular ${JSON.stringify(results['compute-ceiling/tabular'])}; ResNet-18 ${JSON.stringify(results['compute-ceiling/resnet18'])}.`,
  `Health during ResNet-18 c16: ${JSON.stringify(results['sibyl/resnet18/c16/health-live'])}.`,
  '',
  '| target | measured |',
  '| --- | --- |',
  `| tabular c64 ≥ 0.75× HTTP ceiling | ${ratio(r['sibyl/tabular/c64']!.requestsPerSecond, r['http-ceiling/tabular/c64']!.requestsPerSecond)}× |`,
  `| tabular c64 p99 ≤ 10 ms | ${r['sibyl/tabular/c64']!.p99Ms.toFixed(2)} ms |`,
  `| ResNet-18 c16 ≥ 0.95× compute ceiling | ${ratio(r['sibyl/resnet18/c16']!.rowsPerSecond, (results['compute-ceiling/resnet18'] as { rowsPerSecond: number }).rowsPerSecond)}× |`,
  `| ResNet-18 c16 p99 ≤ 1.5× p50 | ${ratio(r['sibyl/resnet18/c16']!.p99Ms, r['sibyl/resnet18/c16']!.p50Ms)}× |`,
  `| /v2/health/live p99 < 5 ms during ResNet-18 c16 | ${(results['sibyl/resnet18/c16/health-live'] as { p99Ms: number }).p99Ms} ms |`,
  `| tabular c64 batching on vs off ≥ 1.5× | ${ratio(r['sibyl/tabular/c64']!.requestsPerSecond, r['sibyl-batching-off/tabular/c64']!.requestsPerSecond)}× |`,
  '',
].join('\n');
writeFileSync(`${base}.md`, md);
console.log(md);
rmSync(scratch, { recursive: true, force: true });
