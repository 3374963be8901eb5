// Peak RSS of reading a hostile batch source (issue 13 C1): /dev/zero as a CSV, and a JSON Lines
// file of one 256 MiB line. Each case runs in a child process whose RSS the parent samples from
// /proc every 20 ms; a child past --cap-mb (default 1500) or --timeout-s (default 20) is killed,
// so a regression cannot take the machine down.
//
//   npx tsx bench/batch-source-rss.ts [--src packages/server/src] [--cap-mb 1500] [--timeout-s 20]
//
// --src points at a copy of the server's src/ (e.g. an older commit's, extracted beside it) to
// measure that code instead.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync, openSync, writeSync, closeSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { procStatusKb } from './scenario-tools.ts';
import type { CsvSource as CsvSourceType } from '../packages/server/src/batch/sources/csv-source.ts';
import type { JsonlSource as JsonlSourceType } from '../packages/server/src/batch/sources/jsonl-source.ts';

const { values } = parseArgs({ options: { src: { type: 'string', default: 'packages/server/src' }, 'cap-mb': { type: 'string', default: '1500' }, 'timeout-s': { type: 'string', default: '20' }, child: { type: 'string' }, file: { type: 'string' } } });

async function child(kind: string, file: string, src: string): Promise<void> {
  const root = path.resolve(src, 'batch/sources');
  const read = async (source: { chunks(o: { chunkRows: number }): AsyncIterable<{ rows: unknown[] }> }): Promise<string> => {
    let rows = 0;
    try {
      for await (const c of source.chunks({ chunkRows: 1000 })) rows += c.rows.length;
      return `read ${rows} rows`;
    } catch (err) {
      return `failed: ${(err as Error).message.slice(0, 160)}`;
    }
  };
  let outcome: string;
  if (kind === 'csv') {
    const { CsvSource } = (await import(path.join(root, 'csv-source.ts'))) as { CsvSource: typeof CsvSourceType };
    outcome = await read(CsvSource.create(file, { scanIn: 'thread' }));
  } else {
    const { JsonlSource } = (await import(path.join(root, 'jsonl-source.ts'))) as { JsonlSource: typeof JsonlSourceType };
    outcome = await read(JsonlSource.create(file));
  }
  process.stdout.write(JSON.stringify({ outcome }) + '\n');
}

const rssMb = (pid: number): number => procStatusKb(pid, 'VmRSS') / 1024;

async function measure(kind: string, file: string): Promise<{ baseMb: number; peakMb: number; outcome: string; seconds: number }> {
  const capMb = Number(values['cap-mb']);
  const timeoutMs = Number(values['timeout-s']) * 1000;
  const proc = spawn(process.execPath, ['--import', 'tsx', process.argv[1]!, '--child', kind, '--file', file, '--src', values.src!], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const started = Date.now();
  let baseMb = 0;
  let peakMb = 0;
  let killed = '';
  const timer = setInterval(() => {
    const mb = rssMb(proc.pid!);
    if (baseMb === 0 && mb > 0) baseMb = mb;
    peakMb = Math.max(peakMb, mb);
    if (mb > capMb) killed = `killed at ${Math.round(mb)} MB RSS (cap)`;
    else if (Date.now() - started > timeoutMs) killed = 'killed at the time limit';
    if (killed !== '') proc.kill('SIGKILL');
  }, 20);
  await new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  clearInterval(timer);
  const outcome = killed !== '' ? killed : out.trim() === '' ? 'exited without an answer' : (JSON.parse(out.trim()) as { outcome: string }).outcome;
  return { baseMb, peakMb, outcome, seconds: (Date.now() - started) / 1000 };
}

if (values.child !== undefined) {
  await child(values.child, values.file!, values.src!);
} else {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sibyl-rss-'));
  try {
    const line = path.join(dir, 'one-line.jsonl');
    const fd = openSync(line, 'w');
    const block = Buffer.alloc(1024 * 1024, 'a');
    writeSync(fd, '{"s":"');
    for (let i = 0; i < 256; i++) writeSync(fd, block);
    writeSync(fd, '"}\n');
    closeSync(fd);
    const small = path.join(dir, 'small.csv');
    writeFileSync(small, 'id,a\nx,1\n');
    for (const [name, kind, file] of [
      ['CSV, a small file (baseline)', 'csv', small],
      ['CSV source /dev/zero', 'csv', '/dev/zero'],
      ['JSON Lines, one 256 MiB line', 'jsonl', line],
      ['CSV, a 256 MiB header line', 'csv', line],
    ] as const) {
      const r = await measure(kind, file);
      console.log(`${name}: first sample ${r.baseMb.toFixed(0)} MB, peak ${r.peakMb.toFixed(0)} MB RSS, ${r.seconds.toFixed(1)} s — ${r.outcome}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
