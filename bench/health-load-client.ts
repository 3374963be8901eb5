// Load for bench/health-under-load.ts, in its own process so that it cannot slow the probe:
// N closed-loop clients send binary ResNet-18 requests (one 3×224×224 image each) until told to stop.
import { encodeInferRequestBinary } from '@sibyl/protocol';

const [url, concurrencyText, durationText] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const durationMs = Number(durationText);
const image = Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
const { body, headerLength } = encodeInferRequestBinary(
  { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 224, 224], data: image }] },
  { binaryOutputs: true },
);
const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) };

let done = 0;
let failed = 0;
const start = performance.now();
async function client(): Promise<void> {
  while (performance.now() - start < durationMs) {
    const res = await fetch(`${url}/v2/models/resnet18/infer`, { method: 'POST', headers, body });
    await res.arrayBuffer();
    if (res.ok) done++;
    else failed++;
  }
}
await Promise.all(Array.from({ length: concurrency }, () => client()));
const seconds = (performance.now() - start) / 1000;
process.stdout.write(`${JSON.stringify({ images: done, failed, seconds, imagesPerSecond: done / seconds })}\n`);
