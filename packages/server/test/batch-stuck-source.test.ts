// Issue 13 H4, through the server: a batch job whose PostgreSQL source accepts connections and
// never speaks (a TCP server of our own on port 0) fails with a connect and handshake timeout
// naming the bound; while it is stuck, cancel answers, and so does the server's shutdown.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchJobView } from '../src/batch/job-manager.ts';
import type { SibylServer } from '../src/server.ts';
import { SilentServer, createTestServer, linearClassifierModel, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';

let dir: string;
let server: SibylServer | undefined;
let silent: SilentServer;

beforeEach(async () => {
  dir = await makeTempDir('sibyl-batch-stuck-');
  await writeModelRepository(path.join(dir, 'models'), { linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } } });
  silent = await SilentServer.start();
  server = await createTestServer(path.join(dir, 'models'), { configDir: dir, sandbox: { sourceRoots: [], connections: { stuck: { postgres: `postgres://x@127.0.0.1:${silent.port}/x` } } } });
});

afterEach(async () => {
  await server?.shutdown();
  await silent.close();
  await removeDir(dir);
});

const spec = (connectTimeoutMs: number) => ({
  name: 'stuck',
  source: { sql: { connection: 'stuck', query: 'SELECT * FROM t ORDER BY id', connectTimeoutMs } },
  key: 'id',
  inputs: { features: { columns: ['a', 'b', 'c', 'd'] } },
  target: { model: 'linear' },
});

async function start(body: unknown): Promise<BatchJobView> {
  const res = await server!.http.inject({ method: 'POST', url: '/v1/batch/jobs', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  expect(res.statusCode).toBe(202);
  return res.json() as BatchJobView;
}

describe('a batch job whose PostgreSQL source never answers', () => {
  // Over the API the failure names the connection and says no more: a timeout, a refusal and a
  // server that is not PostgreSQL read the same (no port probing). The bound itself is tested on
  // the source (src/batch/network-timeouts.test.ts), whose message names it.
  it('fails within its connect timeout, naming the connection only', async () => {
    const job = await start(spec(200));
    const final = await server!.batchJobs.whenDone(job.id)!;
    expect(final.status).toBe('failed');
    expect(final.error).toBe(`cannot connect to connection "stuck"; the server's operator can check it (sandbox.connections in sibyl.yaml)`);
  });

  it('is cancelled while it waits: cancel answers with the job cancelled', async () => {
    const job = await start(spec(600_000));
    await silent.connected(); // the job's source has connected
    const res = await server!.http.inject({ method: 'POST', url: `/v1/batch/jobs/${job.id}/cancel` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: job.id, status: 'cancelled' });
  });

  it("does not hold the server's shutdown: the job is recorded as interrupted", async () => {
    const job = await start(spec(600_000));
    await silent.connected(); // the job's source has connected
    const done = server!.batchJobs.whenDone(job.id)!;
    await server!.shutdown();
    const final = await done;
    expect(final.status).toBe('failed');
    expect(final.error).toMatch(/^interrupted: the server shut down while the job ran/);
    server = undefined;
  });
});
