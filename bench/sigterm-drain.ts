// Issue 13 (H1): what clients see when `sibyl serve` gets SIGTERM with requests in flight.
// A real `sibyl serve` child on port 0 serves a model slow enough that requests queue (a chain of
// 512×512 MatMuls, at most 4 rows per batch); N keep-alive connections each carry one request,
// fully written when SIGTERM is sent; once readiness says 503, M more requests go on new
// connections. Every request received before the signal must be answered (no connection reset)
// and the later ones must get 503 SERVER_DRAINING with Connection: close, not ECONNREFUSED.
//
// With connections < inFlight, the client queues the rest and writes each on a connection as soon
// as its previous answer arrives, as connection pools do.
//
//   npx tsx bench/sigterm-drain.ts [inFlight=300] [connections=inFlight] [afterSignal=50] [gracePeriodMs=5000] [runs=3]
import os from 'node:os';
import { makeTempDir, probeDrain, removeDir, slowModel, spawnSibyl, writeModelRepository } from '../packages/server/src/testing/index.ts';

const inFlight = Number(process.argv[2] ?? 300);
const connections = Number(process.argv[3] ?? inFlight);
const afterSignal = Number(process.argv[4] ?? 50);
const gracePeriodMs = Number(process.argv[5] ?? 5000);
const runs = Number(process.argv[6] ?? 3);
const SLOW = { size: 512, depth: 8 };

const repo = await makeTempDir('sibyl-bench-drain-');
try {
  await writeModelRepository(repo, { slow: { versions: { 1: slowModel(SLOW).bytes }, config: 'maxBatchSize: 4\n' } });
  const body = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, SLOW.size], data: Array.from({ length: SLOW.size }, (_, i) => i % 7) }] });
  console.log(`# ${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model} · Node ${process.version} · load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`# inFlight=${inFlight} connections=${connections} afterSignal=${afterSignal} gracePeriodMs=${gracePeriodMs}`);
  for (let run = 1; run <= runs; run++) {
    const server = await spawnSibyl(['--model-repository', repo, '--state-store', ':memory:', '--shutdown-grace-period-ms', String(gracePeriodMs)], { timeoutMs: 120_000 });
    const result = await probeDrain({ server, model: 'slow', body, inFlight, connections, afterSignal });
    console.log(JSON.stringify({ run, ...result, firstAfterSignalMs: Math.round(result.firstAfterSignalMs), exitMs: Math.round(result.exitMs) }));
  }
} finally {
  await removeDir(repo);
}
