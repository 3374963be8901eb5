// SibylClient's three wires against one running server: REST JSON, REST binary tensors and gRPC
// (raw contents), on the tabular MLP (1×32 FP32 in, 1×2 out) and on a 64×32 batch, closed loop
// at concurrency 1 and 16. Start the server first (`npm start`), then:
//   npx tsx bench/client-transports.ts [seconds per run] [http url] [grpc address]
// The load runs in this process, on the same cores as the server: compare the rows, not the
// absolute numbers.
import { SibylClient, type InferRequest } from '@sibyl/client';
import { grpcClient } from '@sibyl/client/grpc';

const seconds = Number(process.argv[2] ?? 5);
const url = process.argv[3] ?? 'http://127.0.0.1:8000';
const grpcAddress = process.argv[4] ?? '127.0.0.1:8001';

const request = (rows: number): InferRequest => ({
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 32], data: Float32Array.from({ length: rows * 32 }, (_, i) => (i % 7) / 7) }],
});

async function run(client: SibylClient, binary: boolean | undefined, rows: number, concurrency: number): Promise<string> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const body = request(rows);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        await client.infer('tabular_mlp', body, { binary, retry: false });
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(2);
  return `${(latencies.length / seconds).toFixed(0).padStart(7)} req/s  p50 ${at(0.5).padStart(6)} ms  p99 ${at(0.99).padStart(6)} ms`;
}

const rest = SibylClient.rest(url);
const grpc = grpcClient(grpcAddress);
for (const rows of [1, 64]) {
  for (const concurrency of [1, 16]) {
    for (const [name, client, binary] of [['REST JSON  ', rest, false], ['REST binary', rest, true], ['gRPC raw   ', grpc, undefined]] as const) {
      await run(client, binary, rows, concurrency); // warm-up of the same length
      console.log(`${name} ${String(rows).padStart(2)} rows c${String(concurrency).padEnd(2)} ${await run(client, binary, rows, concurrency)}`);
    }
  }
}
grpc.close();
