// `sibyl batch lookup …` against a server listening on a real port (in process, scripted runtime)
// whose prediction store holds what a batch job committed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { createServer, type AddressInfo } from 'node:net';
import { formatAge, formatOutputs, registerBatchLookupCommand } from '../src/cli/batch-lookup-command.ts';
import { cliRunner } from './cli-harness.ts';
import type { SibylServer } from '../src/server.ts';
import { ManualClock, ScriptedRuntime, createTestServer, makeTempDir, removeDir } from '../src/testing/index.ts';
import { samplePrediction } from '../src/testing/prediction-store-contract.ts';

const T0 = 1_800_000_000_000;
let repo: string;
let server: SibylServer;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-cli-lookup-');
  server = await createTestServer(repo, { runtime: new ScriptedRuntime(), clock: new ManualClock(T0) });
  await server.predictionStore.commitChunk('job-9', 0, [
    samplePrediction('c-1', { createdAtMs: T0 - 45_000, jobId: 'job-9', outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [2], data: [0.10000000149011612, 0.8999999761581421] }] }),
    samplePrediction('acme|42', { createdAtMs: T0 - 2 * 3_600_000, jobId: 'job-9', version: '4', outputs: [{ name: 'label', datatype: 'BYTES', shape: [1], data: ['churns'] }] }),
  ]);
  await server.http.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

const sibyl = cliRunner(() => server.url, registerBatchLookupCommand);

describe('sibyl batch lookup', () => {
  it('prints the stored predictions as a table', async () => {
    const r = await sibyl('batch', 'lookup', 'churn', 'c-1', 'acme|42');
    expect(r).toEqual({
      code: 0,
      err: '',
      out: [
        'KEY      VERSION  AGE   CREATED                   JOB    OUTPUTS',
        `c-1      3        45s   ${new Date(T0 - 45_000).toISOString()}  job-9  probabilities=[0.1,0.9]`,
        `acme|42  4        2.0h  ${new Date(T0 - 7_200_000).toISOString()}  job-9  label=["churns"]`,
        '',
      ].join('\n'),
    });
  });

  it('lists missing keys on stderr with exit code 1, and prints JSON with --json', async () => {
    const r = await sibyl('batch', 'lookup', 'churn', 'c-1', 'ghost', '--json');
    expect(r.code).toBe(1);
    expect(r.err).toBe('sibyl: no stored prediction of churn for key: ghost\n');
    const body = JSON.parse(r.out);
    expect(body.predictions.map((p: { key: string; ageMs: number }) => [p.key, p.ageMs])).toEqual([['c-1', 45_000]]);
    expect(body.missing).toEqual(['ghost']);
  });

  it('says when the server cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const r = await sibyl('batch', 'lookup', 'churn', 'c-1', '--url', `http://127.0.0.1:${port}`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^sibyl: cannot reach the server at http://127.0.0.1:${port}: ECONNREFUSED`));
  });

  it('joins a batch group another command made, or makes one', () => {
    const program = new Command('sibyl');
    const batch = program.command('batch');
    registerBatchLookupCommand(program, () => undefined);
    expect(program.commands.filter((c) => c.name() === 'batch')).toHaveLength(1);
    expect(batch.commands.map((c) => c.name())).toEqual(['lookup']);
    const fresh = new Command('sibyl');
    registerBatchLookupCommand(fresh, () => undefined);
    expect(fresh.commands.find((c) => c.name() === 'batch')?.commands.map((c) => c.name())).toEqual(['lookup']);
  });

  it('formats ages and outputs for people', () => {
    expect([850, 42_000, 17 * 60_000, 5.2 * 3_600_000, 3.1 * 86_400_000].map(formatAge)).toEqual(['850ms', '42s', '17m', '5.2h', '3.1d']);
    expect(formatOutputs([{ name: 'v', datatype: 'FP32', shape: [10], data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }, { name: 'ok', datatype: 'BOOL', shape: [1], data: [true] }])).toBe('v=[1,2,3,4,5,6,7,8,…] ok=[true]');
  });
});
