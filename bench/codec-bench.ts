// Micro-benchmark of the V2 JSON codec's hot path: decodeInferRequest + encodeInferResponse on a
// tabular request (1×32 FP32) and a batch (64×32 FP32). Run: npx tsx bench/codec-bench.ts
// Prints ops/s; numbers are for comparison on one machine, never asserted in tests.
import { decodeInferRequest, encodeInferResponse } from '@sibyl/protocol';
import type { InferResponse } from '@sibyl/protocol';

function requestText(rows: number, cols: number): string {
  const data: number[] = [];
  for (let i = 0; i < rows * cols; i++) data.push(Math.round(Math.sin(i) * 1e6) / 1e3);
  return JSON.stringify({
    id: 'bench-1',
    inputs: [{ name: 'input', shape: [rows, cols], datatype: 'FP32', data }],
    outputs: [{ name: 'probabilities' }],
  });
}

function responseFor(rows: number): InferResponse {
  const probs = new Float32Array(rows * 2);
  for (let i = 0; i < probs.length; i++) probs[i] = (i % 7) / 7;
  return {
    model_name: 'mlp',
    model_version: '1',
    id: 'bench-1',
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [rows, 2], data: probs }],
  };
}

// The cases of one size run interleaved, round after round, so that load from other processes
// and GC drift hit them alike; each reports the median of its per-round rates.
function measure(cases: Record<string, () => void>, rounds = 25, roundMs = 60): void {
  const names = Object.keys(cases);
  const rates: Record<string, number[]> = {};
  for (const name of names) {
    const fn = cases[name]!;
    for (let i = 0; i < 20_000; i++) fn(); // warm up
    rates[name] = [];
  }
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      const fn = cases[name]!;
      let ops = 0;
      const start = performance.now();
      let now = start;
      while (now - start < roundMs) {
        for (let i = 0; i < 50; i++) fn();
        ops += 50;
        now = performance.now();
      }
      rates[name]!.push((ops * 1000) / (now - start));
    }
  }
  for (const name of names) {
    const sorted = rates[name]!.sort((a, b) => a - b);
    const perSec = sorted[sorted.length >> 1]!;
    console.log(`${name.padEnd(40)} ${Math.round(perSec).toLocaleString('en-US').padStart(12)} ops/s ${(1e6 / perSec).toFixed(2).padStart(9)} µs/op`);
  }
}

let sink = 0;
for (const [rows, cols] of [
  [1, 32],
  [64, 32],
] as const) {
  const text = requestText(rows, cols);
  const bytes = new TextEncoder().encode(text);
  const response = responseFor(rows);
  const shape = `${rows}x${cols} FP32`;
  measure({
    [`decodeInferRequest(string) ${shape}`]: () => {
      sink += decodeInferRequest(text).inputs.length;
    },
    [`decodeInferRequest(bytes) ${shape}`]: () => {
      sink += decodeInferRequest(bytes).inputs.length;
    },
    [`  baseline JSON.parse ${shape}`]: () => {
      sink += (JSON.parse(text) as { inputs: unknown[] }).inputs.length;
    },
    [`encodeInferResponse [${rows},2] FP32`]: () => {
      sink += encodeInferResponse(response).length;
    },
    [`decode + encode ${shape}`]: () => {
      sink += decodeInferRequest(text).inputs.length + encodeInferResponse(response).length;
    },
  });
}
if (sink === 42) console.log('');
console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
