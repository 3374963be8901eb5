// CPU cost per request of each part of observability on the event loop, in process, with no
// HTTP and no model: what RequestObserver.started/finished and the scheduler observer do for one
// tabular request (1 × 32 FP32 in, 1 × 2 FP32 out). CPU time (process.cpuUsage), so a busy
// machine slows the run but changes the numbers less than wall time would.
//
//   npx tsx bench/observer-cost.ts [requests=300000]
import { pino } from 'pino';
import { compileModelConfig } from '../packages/server/src/config/model-config.ts';
import { predictionLogServerDefaults } from '../packages/server/src/config/prediction-log-config.ts';
import { createSystemClock } from '../packages/server/src/core/clock.ts';
import type { ServedVersion } from '../packages/server/src/models/served-version.ts';
import type { RequestContext } from '../packages/server/src/core/request-context.ts';
import { DriftMonitor } from '../packages/server/src/observability/drift/drift-monitor.ts';
import { SibylMetrics } from '../packages/server/src/observability/metrics/metrics.ts';
import { PredictionLogger } from '../packages/server/src/observability/prediction-log/prediction-logger.ts';
import { RequestObserver, type ObservabilityParts } from '../packages/server/src/observability/request-observer.ts';

const N = Number(process.argv[2] ?? 300_000);
const log = pino({ level: 'silent' });
const clock = createSystemClock();
const config = compileModelConfig({ predictionLog: { sampleRate: 0.01 }, drift: { baselineRows: 1000, windowRows: 1000 } }, '/bench/config.yaml');
const signature = { inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 32] }], outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }], maxBatchSize: 64 };
const served = { name: 'tabular_mlp', version: 1, signature, config } as unknown as ServedVersion;
const request = { inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [1, 32], data: Float32Array.from({ length: 32 }, (_, i) => (i * 0.37) % 1) }] };
const response = { model_name: 'tabular_mlp', outputs: [{ name: 'probabilities', datatype: 'FP32' as const, shape: [1, 2], data: Float32Array.from([0.3, 0.7]) }] };
const batch = { rows: 1, startMs: 1, endMs: 1.1, members: [{ enqueuedAtMs: 0.9, rows: 1, trace: undefined }], failed: false };
const CONTEXT: RequestContext = { requestId: 'r', arrivalMs: 0, entry: 'http' };

function parts(which: string): ObservabilityParts {
  const metrics = new SibylMetrics({ models: () => [], served: () => [], inFlight: () => 0, serverVersion: '0', processMetrics: false });
  const sink = { name: 'discard', write: async () => undefined, query: async () => [], deleteBefore: async () => 0, close: async () => undefined };
  return {
    metrics: which === 'metrics' || which === 'all' ? metrics : undefined,
    predictions: which === 'prediction log (1%)' || which === 'all' ? new PredictionLogger({ config: predictionLogServerDefaults(), openSink: async () => sink, clock, log, metrics, retention: () => [] }) : undefined,
    drift: which === 'drift (32 features)' || which === 'all' ? new DriftMonitor({ log, metrics }) : undefined,
  };
}

const results: Record<string, number> = {};
for (const which of ['metrics', 'prediction log (1%)', 'drift (32 features)', 'all']) {
  const p = parts(which);
  const observer = new RequestObserver(p);
  const scheduler = observer.schedulerObserver('tabular_mlp', 1);
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      const token = observer.started(served, request, CONTEXT);
      scheduler?.executed(batch);
      observer.finished({ model: 'tabular_mlp', served, request, response, error: undefined, totalMs: 1.5, context: CONTEXT, token });
    }
    const used = process.cpuUsage(before);
    samples.push(((used.user + used.system) * 1000) / N);
  }
  await p.predictions?.close();
  results[which] = Math.min(...samples);
  console.log(`${which.padEnd(22)} ${results[which]!.toFixed(0)} ns CPU per request (best of 3 rounds of ${N})`);
}
