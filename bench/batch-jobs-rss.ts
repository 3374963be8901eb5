// Peak RSS of three batch jobs started at once through the API on a wide-row CSV (issue 13 C1,
// per server; VERIFY-13 item 2): every row's 60 KB field is an input column and not a number, so
// each row is read as text and rejected (the acceptance run's widerej.csv, scaled down by
// --rows). Each case runs in a child process (an in-process server, Fastify inject) whose RSS
// the parent samples from /proc every 20 ms; a child past --cap-mb or --timeout-s is killed.
//
//   npx tsx bench/batch-jobs-rss.ts [--rows 3000] [--cap-mb 4000] [--timeout-s 180]
//
// Cases: "unbounded" runs all three at once with chunks cut by rows only (chunkBytes at its
// maximum, 1 GiB: what the server did before batch.maxRunningJobs and chunkBytes); "defaults"
// uses the defaults (2 running, 64 MiB chunks); "chunkBytes only" runs three at once with 64 MiB
// chunks; "1 running" sets batch.maxRunningJobs 1.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { procStatusKb } from './scenario-tools.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '3000' }, 'cap-mb': { type: 'string', default: '4000' }, 'timeout-s': { type: 'string', default: '180' }, 'heap-mb': { type: 'string' }, cases: { type: 'string' }, child: { type: 'string' }, dir: { type: 'string' } } });

const FIELD_BYTES = 60 * 1024;

async function child(dir: string, setting: { maxRunningJobs: number; chunkBytes?: number }): Promise<void> {
  const { createTestServer, linearClassifierModel, writeModelRepository } = await import('../packages/server/src/testing/index.ts');
  const { LINEAR_4X3 } = await import('../packages/server/test/fixtures.ts');
  await writeModelRepository(path.join(dir, 'models'), { linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } } });
  const server = await createTestServer(path.join(dir, 'models'), { configDir: dir, batch: { maxRunningJobs: setting.maxRunningJobs, maxQueuedJobs: 100 } });
  const started = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const spec = { name: `wide${i}`, source: { csv: path.join(dir, 'wide.csv') }, key: 'id', inputs: { features: { columns: ['a', 'b', 'c', 'd'] } }, target: { model: 'linear' }, rejects: path.join(dir, `wide${i}.rejects.jsonl`), ...(setting.chunkBytes === undefined ? {} : { chunkBytes: setting.chunkBytes }) };
    const res = await server.http.inject({ method: 'POST', url: '/v1/batch/jobs', payload: JSON.stringify(spec), headers: { 'content-type': 'application/json' } });
    ids.push((res.json() as { id: string }).id);
  }
  const finals = await Promise.all(ids.map((id) => server.batchJobs.whenDone(id)!));
  const seconds = (Date.now() - started) / 1000;
  await server.shutdown();
  process.stdout.write(JSON.stringify({ seconds, jobs: finals.map((f) => ({ status: f.status, rowsRejected: f.rowsRejected, chunks: f.chunksTotal ?? f.chunksCommitted, error: f.error?.slice(0, 120) })) }) + '\n');
}

const rssMb = (pid: number): number => procStatusKb(pid, 'VmRSS') / 1024;

async function run(name: string, dir: string, setting: { maxRunningJobs: number; chunkBytes?: number }): Promise<void> {
  const capMb = Number(values['cap-mb']);
  const proc = spawn(process.execPath, [...(values['heap-mb'] === undefined ? [] : [`--max-old-space-size=${values['heap-mb']}`]), '--import', 'tsx', import.meta.filename, '--dir', dir, '--child', JSON.stringify(setting)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let peak = 0;
  let killed = '';
  const timer = setInterval(() => {
    const mb = rssMb(proc.pid!);
    peak = Math.max(peak, mb);
    if (mb > capMb) {
      killed = `killed at ${mb.toFixed(0)} MB (cap)`;
      proc.kill('SIGKILL');
    }
  }, 20);
  const timeout = setTimeout(() => {
    killed = 'killed (timeout)';
    proc.kill('SIGKILL');
  }, Number(values['timeout-s']) * 1000);
  const code = await new Promise((resolve) => proc.on('exit', (c, sig) => resolve(sig ?? c)));
  if (!killed && code !== 0) killed = `exited ${String(code)}${out === '' ? ' (out of memory?)' : ''}`;
  clearInterval(timer);
  clearTimeout(timeout);
  console.log(`| ${name} | ${setting.maxRunningJobs} | ${setting.chunkBytes === undefined ? '16 MiB (default)' : `${setting.chunkBytes / 2 ** 20} MiB`} | ${peak.toFixed(0)} | ${killed || out.trim()} |`);
}

if (values.child !== undefined) {
  await child(values.dir!, JSON.parse(values.child) as { maxRunningJobs: number; chunkBytes?: number });
} else {
  const rows = Number(values.rows);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sibyl-jobs-rss-'));
  try {
    const fd = openSync(path.join(dir, 'wide.csv'), 'w');
    writeSync(fd, 'id,a,b,c,d\n');
    const wide = 'x'.repeat(FIELD_BYTES);
    for (let r = 0; r < rows; r++) writeSync(fd, `c${r},1,2,3,${wide}\n`);
    closeSync(fd);
    console.log(`3 jobs at once on a CSV of ${rows} rows of ${FIELD_BYTES / 1024} KB (${((rows * FIELD_BYTES) / 2 ** 20).toFixed(0)} MiB), every row rejected; chunkRows 10000 (default)\n`);
    console.log('| case | batch.maxRunningJobs | chunkBytes | peak RSS (MB) | result |');
    console.log('| --- | --- | --- | --- | --- |');
    const only = values.cases?.split(',');
    const cases: [string, { maxRunningJobs: number; chunkBytes?: number }][] = [
      ['unbounded (as before)', { maxRunningJobs: 3, chunkBytes: 1024 * 1024 * 1024 }],
      ['defaults', { maxRunningJobs: 2 }],
      ['chunkBytes only', { maxRunningJobs: 3 }],
      ['1 running', { maxRunningJobs: 1 }],
      ['2 running, 64 MiB', { maxRunningJobs: 2, chunkBytes: 64 * 1024 * 1024 }],
    ];
    for (const [name, setting] of cases) if (only === undefined || only.includes(name)) await run(name, dir, setting);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
