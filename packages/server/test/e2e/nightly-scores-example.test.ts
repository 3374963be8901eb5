// The example examples/nightly-scores/ run as its README says, with the real binaries: the
// committed customer table is what its script makes; `sibyl batch run job.yaml` scores it into
// the SQLite prediction store; `sibyl serve --config sibyl.yaml` answers by key from the store,
// live for an unknown key with inputs (the same numbers the job stored for the same features),
// and with the default for an unknown key without inputs; `sibyl batch lookup` prints a row.
import { spawn } from 'node:child_process';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customersCsv } from '../../../../examples/nightly-scores/make-customers.ts';
import { makeTempDir, removeDir, spawnSibyl, type SpawnedServer } from '../../src/testing/index.ts';

const EXAMPLE = fileURLToPath(new URL('../../../../examples/nightly-scores/', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/sibyl.js', import.meta.url));

function sibyl(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

let dir: string;
let server: SpawnedServer | undefined;
let csv: string;

beforeAll(async () => {
  dir = await makeTempDir('sibyl-example-nightly-');
  for (const file of ['customers.csv', 'job.yaml', 'sibyl.yaml']) await copyFile(path.join(EXAMPLE, file), path.join(dir, file));
  csv = await readFile(path.join(EXAMPLE, 'customers.csv'), 'utf8');
});

afterAll(async () => {
  if (server !== undefined) expect(await server.stop()).toBe(0);
  await removeDir(dir);
});

const infer = async (body: unknown) => {
  const res = await fetch(`${server!.url}/v2/models/scores/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as { model_name: string; outputs: { name: string; shape: number[]; data: number[] }[]; parameters: Record<string, unknown> };
};

describe('examples/nightly-scores', () => {
  it('has the customer table its script makes, and the README sends cust-0001\'s features', async () => {
    expect(customersCsv(200)).toBe(csv);
    const readme = await readFile(path.join(EXAMPLE, 'README.md'), 'utf8');
    const sent = /"data":\s*\[([^\]]+)\]\}\]\}'/.exec(readme)?.[1]?.split(',').map(Number);
    expect(sent).toEqual(csv.split('\n')[1]!.split(',').slice(1).map(Number));
    for (const command of ['npx sibyl batch run examples/nightly-scores/job.yaml', 'npm start -- --config examples/nightly-scores/sibyl.yaml']) expect(readme).toContain(command);
  });

  it('runs end to end: the nightly job, then serving by key with live fallback and a default', async () => {
    const job = await sibyl(['batch', 'run', path.join(dir, 'job.yaml')]);
    expect(job.code, job.err).toBe(0);
    expect(job.out).toMatch(/batch job nightly-scores \(\S+\) SUCCEEDED/);
    expect(job.out).toContain('200 read, 200 written, 0 rejected');

    server = await spawnSibyl(['--config', path.join(dir, 'sibyl.yaml')], { timeoutMs: 60_000 });
    const stored = (await (await fetch(`${server.url}/v1/predictions/tabular_mlp/cust-0001`)).json()) as { version: string; ageMs: number; outputs: { name: string; data: number[] }[] };
    expect(stored.version).toBe('1');
    expect(stored.outputs[0]!.name).toBe('probabilities');
    expect(stored.outputs[0]!.data).toHaveLength(2);

    const byKey = await infer({ parameters: { customer_id: 'cust-0001' } });
    expect(byKey.parameters).toMatchObject({ sibyl_source: 'store', sibyl_source_reason: 'fresh' });
    expect(byKey.outputs[0]!.data).toEqual(stored.outputs[0]!.data);

    // A customer the job never saw, with cust-0001's features: predicted live, to the same numbers.
    const features = csv.split('\n')[1]!.split(',').slice(1).map(Number);
    const live = await infer({ parameters: { customer_id: 'cust-new' }, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 32], data: features }] });
    expect(live.parameters).toMatchObject({ sibyl_source: 'live', sibyl_source_reason: 'not_stored' });
    expect(live.outputs[0]!.data).toEqual(stored.outputs[0]!.data);

    const fallback = await infer({ parameters: { customer_id: 'cust-new' } });
    expect(fallback).toMatchObject({ model_name: 'default', outputs: [{ name: 'probabilities', shape: [1, 2], data: [0.5, 0.5] }], parameters: { sibyl_source: 'default' } });

    const lookup = await sibyl(['batch', 'lookup', 'tabular_mlp', 'cust-0001', 'cust-0200', '--url', server.url]);
    expect(lookup.code, lookup.err).toBe(0);
    expect(lookup.out.split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['KEY', 'cust-0001', 'cust-0200', '']);
  });
});
