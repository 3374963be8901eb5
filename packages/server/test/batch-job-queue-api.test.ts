// Issue 13 C1 (per server), through the HTTP API: with batch.maxRunningJobs 1 and
// batch.maxQueuedJobs 1, a second job waits as queued (shown with its place, in the list too), a
// third gets 429 BATCH_JOB_QUEUE_FULL with Retry-After, a queued job can be cancelled, and the
// queued one starts when the running one ends. The running job's PostgreSQL source is a TCP
// server of our own (port 0) that never answers, so it runs until cancelled.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchJobView } from '../src/batch/job-manager.ts';
import type { SibylServer } from '../src/server.ts';
import { SilentServer, createTestServer, linearClassifierModel, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';

let dir: string;
let server: SibylServer;
let silent: SilentServer;

beforeAll(async () => {
  dir = await makeTempDir('sibyl-batch-queue-');
  await writeModelRepository(path.join(dir, 'models'), { linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } } });
  await writeFile(path.join(dir, 'rows.csv'), 'id,a,b,c,d\nc0,1,2,3,4\nc1,5,6,7,8\n');
  silent = await SilentServer.start();
  server = await createTestServer(path.join(dir, 'models'), {
    configDir: dir,
    batch: { maxRunningJobs: 1, maxQueuedJobs: 1 },
    sandbox: { sourceRoots: [dir], connections: { silent: { postgres: `postgres://x@127.0.0.1:${silent.port}/x` } } },
  });
});

afterAll(async () => {
  await server?.shutdown();
  await silent.close();
  await removeDir(dir);
});

const inputs = { key: 'id', inputs: { features: { columns: ['a', 'b', 'c', 'd'] } }, target: { model: 'linear' } };
const stuck = () => ({ name: 'stuck', source: { sql: { connection: 'silent', query: 'SELECT 1', connectTimeoutMs: 600_000 } }, ...inputs });
const csv = (name: string) => ({ name, source: { csv: path.join(dir, 'rows.csv') }, ...inputs });

async function call(method: 'GET' | 'POST', url: string, body?: unknown) {
  return server.http.inject({ method, url, ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
}

describe('batch jobs beyond batch.maxRunningJobs', () => {
  it('queues the next job, refuses one more with 429 and Retry-After, cancels a queued one, and starts the queued one when a slot frees', async () => {
    const first = (await call('POST', '/v1/batch/jobs', stuck())).json() as BatchJobView;
    const second = await call('POST', '/v1/batch/jobs', csv('second'));
    expect(second.statusCode).toBe(202);
    expect(second.json()).toMatchObject({ name: 'second', status: 'queued', queuePosition: 1 });
    const secondId = (second.json() as BatchJobView).id;

    const third = await call('POST', '/v1/batch/jobs', csv('third'));
    expect(third.statusCode).toBe(429);
    expect(third.headers['retry-after']).toBe('60');
    expect(third.json()).toMatchObject({ reason: 'BATCH_JOB_QUEUE_FULL', code: 'RESOURCE_EXHAUSTED' });
    expect((third.json() as { error: string }).error).toMatch(/batch\.maxRunningJobs 1.*batch\.maxQueuedJobs 1/);

    const listed = (await call('GET', '/v1/batch/jobs')).json() as { jobs: BatchJobView[] };
    expect(listed.jobs.find((j) => j.id === secondId)).toMatchObject({ status: 'queued', queuePosition: 1 });
    expect(listed.jobs.map((j) => j.name)).not.toContain('third');

    // A queued job is cancelled at once; another takes its place.
    expect((await call('POST', `/v1/batch/jobs/${secondId}/cancel`)).json()).toMatchObject({ id: secondId, status: 'cancelled' });
    const fourth = (await call('POST', '/v1/batch/jobs', csv('fourth'))).json() as BatchJobView;
    expect(fourth).toMatchObject({ status: 'queued', queuePosition: 1 });

    // The running job ends (cancelled): the queued one starts and succeeds.
    expect((await call('POST', `/v1/batch/jobs/${first.id}/cancel`)).json()).toMatchObject({ status: 'cancelled' });
    const final = await server.batchJobs.whenDone(fourth.id)!;
    expect(final).toMatchObject({ status: 'succeeded', rowsWritten: 2 });
    expect(((await call('GET', `/v1/batch/jobs/${secondId}`)).json() as BatchJobView).status).toBe('cancelled');
  });
});
