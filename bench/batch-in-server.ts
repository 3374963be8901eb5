// Online traffic while a batch job runs inside the server: `sibyl bench` (tabular MLP, closed
// loop at concurrency 16) against a server with no job, then against the same server while a
// job (POST /v1/batch/jobs) scores a large CSV with the same model; alternated, repeated.
// Prints online req/s and p50/p99 in each state and the job's rows/s (writes
// bench/results/<date>-batch-in-server.md with --record).
//
//   npx tsx bench/batch-in-server.ts [secondsPerRun=8] [repetitions=2] [--record]
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSibyl } from '@sibyl/server/testing';
import { ROOT, bench, machine, repository, type BenchSummary } from './scenario-tools.ts';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const record = process.argv.includes('--record');
const seconds = Number(args[0] ?? 8);
const repetitions = Number(args[1] ?? 2);
const ROWS = 500_000;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'sibyl-batch-in-server-'));
const repo = repository(scratch, 'models', { tabular_mlp: { artifact: path.join(ROOT, 'examples/models/tabular_mlp/1/model.onnx') } });

const csvFile = path.join(scratch, 'data.csv');
writeFileSync(csvFile, `id,${Array.from({ length: 32 }, (_, i) => `f${i}`).join(',')}\n`);
for (let start = 0; start < ROWS; start += 10_000) {
  let block = '';
  for (let r = start; r < start + 10_000; r++) {
    block += `k${r}`;
    for (let i = 0; i < 32; i++) block += `,${(((r * 31 + i * 7) % 200) / 33 - 3).toFixed(2)}`;
    block += '\n';
  }
  appendFileSync(csvFile, block);
}
const spec = {
  name: 'background',
  source: { csv: csvFile },
  key: 'id',
  inputs: { input: { columns: Array.from({ length: 32 }, (_, i) => `f${i}`) } },
  target: { model: 'tabular_mlp' },
  chunkRows: 10_000,
};

const server = await spawnSibyl(['--model-repository', repo, '--state-store', ':memory:', '--prediction-store-path', path.join(scratch, 'predictions.sqlite'), '--log-level', 'info'], { timeoutMs: 120_000 });
const api = async <T>(method: string, p: string, body?: unknown): Promise<T> => (await fetch(`${server.url}${p}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) })).json() as Promise<T>;

const runs: { state: 'idle' | 'with job'; result: BenchSummary; jobRowsPerSecond?: number }[] = [];
for (let rep = 0; rep < repetitions; rep++) {
  for (const state of rep % 2 === 0 ? (['idle', 'with job'] as const) : (['with job', 'idle'] as const)) {
    if (state === 'idle') {
      runs.push({ state, result: await bench(scratch, server.url, 'tabular_mlp', 16, seconds) });
      continue;
    }
    // Jobs back to back for as long as the online run lasts.
    let benching = true;
    let rowsScored = 0;
    const startedAt = performance.now();
    const background = (async () => {
      while (benching) {
        const job = await api<{ id: string }>('POST', '/v1/batch/jobs', spec);
        for (;;) {
          const j = await api<{ status: string; rowsRead: number; progress?: { rowsRead: number } }>('GET', `/v1/batch/jobs/${job.id}`);
          if (j.status !== 'running' && j.status !== 'queued') {
            rowsScored += j.rowsRead;
            break;
          }
          if (!benching) {
            const stopped = await api<{ rowsRead: number }>('POST', `/v1/batch/jobs/${job.id}/cancel`);
            rowsScored += stopped.rowsRead;
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    })();
    const result = await bench(scratch, server.url, 'tabular_mlp', 16, seconds);
    benching = false;
    await background;
    const jobRowsPerSecond = (rowsScored * 1000) / (performance.now() - startedAt);
    runs.push({ state, result, jobRowsPerSecond });
  }
  const [a, b] = runs.slice(-2);
  console.error(`repetition ${rep + 1}: ${[a!, b!].map((r) => `${r.state} ${Math.round(r.result.requestsPerSecond)} req/s p50 ${r.result.p50Ms.toFixed(2)} p99 ${r.result.p99Ms.toFixed(2)} ms${r.jobRowsPerSecond === undefined ? '' : `, job ${Math.round(r.jobRowsPerSecond)} rows/s`}`).join('; ')}`);
}
await server.stop();

const lines = [
  `# Online traffic with a batch job inside the server, ${new Date().toISOString().slice(0, 10)}`,
  '',
  `${Object.entries(machine()).map(([k, v]) => `${k} ${v}`).join(', ')}; tabular_mlp, sibyl bench -c 16 for ${seconds} s (after 2 s warm-up), jobs back to back over ${ROWS} CSV rows in chunks of 10000 (job rows/s: rows read over the online run, warm-up included); command: npx tsx bench/batch-in-server.ts ${seconds} ${repetitions}`,
  '',
  '| state | online req/s | p50 ms | p99 ms | errors | job rows/s |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...runs.map((r) => `| ${r.state} | ${Math.round(r.result.requestsPerSecond)} | ${r.result.p50Ms.toFixed(2)} | ${r.result.p99Ms.toFixed(2)} | ${r.result.errors} | ${r.jobRowsPerSecond === undefined ? '' : Math.round(r.jobRowsPerSecond)} |`),
  '',
];
console.log(lines.join('\n'));
if (record) writeFileSync(path.join(ROOT, 'bench/results', `${new Date().toISOString().slice(0, 10)}-batch-in-server.md`), lines.join('\n'));
rmSync(scratch, { recursive: true, force: true });
