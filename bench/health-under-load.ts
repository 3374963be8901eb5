// Does the event loop stay free while models compute? Serves a ResNet-18-shaped CNN, drives it
// with concurrent binary requests from another process, and probes GET /v2/health/live
// sequentially from this one, reporting the probe's latency percentiles.
//
//   npx tsx bench/models-src/build-resnet18.ts      # once: writes bench/models/resnet18 (47 MB)
//   npx tsx bench/health-under-load.ts [concurrency=16] [seconds=20]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnSibyl } from '@sibyl/server/testing';

const concurrency = Number(process.argv[2] ?? 16);
const seconds = Number(process.argv[3] ?? 20);
const models = fileURLToPath(new URL('./models', import.meta.url));

const server = await spawnSibyl(['--model-repository', models], { timeoutMs: 120_000 });
const load = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./health-load-client.ts', import.meta.url)), server.url, String(concurrency), String(seconds * 1000)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let loadOutput = '';
load.stdout.setEncoding('utf8').on('data', (c: string) => (loadOutput += c));
const loadDone = new Promise((resolve) => load.once('exit', resolve));

const warmupMs = 3000;
const latencies: number[] = [];
const start = performance.now();
while (performance.now() - start < seconds * 1000 - 500) {
  const t0 = performance.now();
  const res = await fetch(`${server.url}/v2/health/live`);
  await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (performance.now() - start > warmupMs) latencies.push(ms);
  await new Promise((resolve) => setTimeout(resolve, 10));
}
await loadDone;
await server.stop();

latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(2);
const result = JSON.parse(loadOutput) as { images: number; failed: number; imagesPerSecond: number };
console.log(
  JSON.stringify({
    concurrency,
    seconds,
    probes: latencies.length,
    liveMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: latencies.at(-1)!.toFixed(2) },
    load: { images: result.images, failed: result.failed, imagesPerSecond: result.imagesPerSecond.toFixed(1) },
  }),
);
