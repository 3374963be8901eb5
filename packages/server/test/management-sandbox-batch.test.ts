// Issue 15, item 7: the attacks on batch jobs sent over the API, replayed with authentication off
// on loopback — the management sandbox refuses each one with a 4xx naming what was wrong.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchJobView } from '../src/batch/job-manager.ts';
import type { SibylServer } from '../src/server.ts';
import { SilentServer, createTestServer, linearClassifierModel, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';

let dir: string;
let data: string;
let server: SibylServer;
let silent: SilentServer;
let closedPort: number;

const inputs = { key: 'id', inputs: { features: { columns: ['a', 'b', 'c', 'd'] } }, target: { model: 'linear' } };

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function post(body: unknown): Promise<{ status: number; body: BatchJobView & { error: string; reason: string } }> {
  const res = await server.http.inject({ method: 'POST', url: '/v1/batch/jobs', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  dir = await makeTempDir('sibyl-sandbox-');
  data = path.join(dir, 'data');
  await mkdir(data);
  await mkdir(path.join(dir, 'jobs'));
  await writeModelRepository(path.join(dir, 'models'), { linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } } });
  await writeFile(path.join(data, 'rows.csv'), 'id,a,b,c,d\nc0,1,2,3,4\nc1,5,6,7,8\n');
  await symlink('/etc/passwd', path.join(data, 'passwd.csv'));
  // A job file inside the jobs folder whose contents must never be quoted back.
  await writeFile(path.join(dir, 'jobs', 'secret.yaml'), 'name: [unclosed\npassword: hunter2-SECRET\n');
  await writeFile(path.join(dir, 'jobs', 'wrong.yaml'), 'name: wrong\nsource: {csv: hunter2-SECRET}\nkey: 7\n');
  const db = new Database(path.join(data, 'scores.sqlite'));
  db.exec("CREATE TABLE t (id TEXT, a REAL, b REAL, c REAL, d REAL); INSERT INTO t VALUES ('c0', 1, 2, 3, 4), ('c1', 5, 6, 7, 8)");
  db.close();
  silent = await SilentServer.start();
  closedPort = await freePort();
  server = await createTestServer(path.join(dir, 'models'), {
    configDir: dir,
    stateStore: path.join(dir, 'state', 'state.sqlite'),
    predictionStore: { backend: 'sqlite', path: path.join(dir, 'state', 'predictions.sqlite'), url: '', tablePrefix: 'sibyl_' },
    sandbox: {
      sourceRoots: ['data', 'state'],
      connections: {
        scores: { sqlite: 'data/scores.sqlite' },
        state: { sqlite: 'state/state.sqlite' },
        silent: { postgres: `postgres://reader:s3cret-PASSWORD@127.0.0.1:${silent.port}/x` },
        closed: { postgres: `postgres://reader:s3cret-PASSWORD@127.0.0.1:${closedPort}/x` },
      },
    },
  });
});

afterAll(async () => {
  await server?.shutdown();
  await silent?.close();
  await removeDir(dir);
});

describe('files a batch job sent over the API may read', () => {
  it('refuses /etc/passwd as a CSV source and /etc/shadow as JSON Lines: 403 PATH_NOT_ALLOWED naming the field and the roots', async () => {
    for (const [source, field] of [
      [{ csv: '/etc/passwd' }, 'source.csv'],
      [{ jsonl: '/etc/shadow' }, 'source.jsonl'],
      [{ csv: '../../../../../../etc/passwd' }, 'source.csv'],
      [{ csv: 'data/passwd.csv' }, 'source.csv'], // a link inside a root, to a file outside it
    ] as const) {
      const res = await post({ name: 'steal', source, ...inputs });
      expect(res.status).toBe(403);
      expect(res.body.reason).toBe('PATH_NOT_ALLOWED');
      expect(res.body.error).toContain(`${field} names`);
      expect(res.body.error).toContain(JSON.stringify(path.join(dir, 'data')));
      expect(res.body.error).not.toContain('root:');
    }
    expect((await server.batchJobs.list({ name: 'steal' }))).toEqual([]);
  });

  it('runs a job whose source is inside a root (relative to the folder of sibyl.yaml)', async () => {
    const res = await post({ name: 'allowed', source: { csv: 'data/rows.csv' }, ...inputs });
    expect(res.status).toBe(202);
    expect(await server.batchJobs.whenDone(res.body.id)).toMatchObject({ status: 'succeeded', rowsWritten: 2 });
  });

  it("refuses the server's own state store and prediction store as sources, even inside a root", async () => {
    for (const file of ['state/state.sqlite', 'state/predictions.sqlite', 'state/state.sqlite-wal']) {
      const res = await post({ name: 'own', source: { csv: file }, ...inputs });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ reason: 'PATH_NOT_ALLOWED' });
      expect(res.body.error).toContain("the server's own data");
    }
  });

  it('refuses {"jobFile": "/etc/passwd"} without quoting it, and a job file outside the jobs folder and roots', async () => {
    for (const jobFile of ['/etc/passwd', '../../../../etc/passwd', 'models/linear/config.yaml']) {
      const res = await post({ jobFile });
      expect(res.status).toBe(403);
      expect(res.body.reason).toBe('PATH_NOT_ALLOWED');
      expect(res.body.error).toContain('"jobFile" names');
      expect(res.body.error).not.toMatch(/root:|nologin/);
    }
  });

  it('never quotes a job file: a YAML error and a wrong spec name the file, the positions and the fields only', async () => {
    const broken = await post({ jobFile: 'jobs/secret.yaml' });
    expect(broken.status).toBe(400);
    expect(broken.body.reason).toBe('BATCH_JOB_INVALID');
    expect(broken.body.error).toContain(path.join(dir, 'jobs', 'secret.yaml'));
    expect(broken.body.error).toMatch(/line \d+, column \d+/);
    expect(broken.body.error).not.toMatch(/hunter2|SECRET|unclosed/);
    const wrong = await post({ jobFile: 'jobs/wrong.yaml' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatch(/key|inputs|target/);
    expect(wrong.body.error).not.toMatch(/hunter2|SECRET/);
  });

  it('refuses a reject file outside the data directory (an absolute path, or beside the config)', async () => {
    for (const rejects of ['/tmp/sibyl-owned.jsonl', path.join(dir, 'models', 'x.jsonl'), 'evil.jsonl']) {
      const res = await post({ name: 'rejects', source: { csv: 'data/rows.csv' }, rejects, ...inputs });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ reason: 'PATH_NOT_ALLOWED' });
      expect(res.body.error).toContain('"rejects" names');
    }
    const inside = await post({ name: 'rejects-inside', source: { csv: 'data/rows.csv' }, rejects: path.join(dir, 'state', 'mine.jsonl'), ...inputs });
    expect(inside.status).toBe(202);
    await server.batchJobs.whenDone(inside.body.id);
  });
});

describe('databases a batch job sent over the API may query', () => {
  it('refuses a SQLite file and a PostgreSQL URL named in the spec: only connections by name', async () => {
    for (const sql of [{ sqlite: path.join(dir, 'state', 'state.sqlite') }, { sqlite: 'data/scores.sqlite' }, { postgres: `postgres://x@127.0.0.1:${silent.port}/x` }]) {
      const res = await post({ name: 'raw-sql', source: { sql: { ...sql, query: 'SELECT 1' } }, ...inputs });
      expect(res.status).toBe(403);
      expect(res.body.reason).toBe('PATH_NOT_ALLOWED');
      expect(res.body.error).toContain('source.sql.connection');
    }
    expect(silent.sockets.size).toBe(0); // nothing was connected to
  });

  it("refuses a connection that is the server's own state store, and an unknown connection name", async () => {
    const own = await post({ name: 'own-db', source: { sql: { connection: 'state', query: 'SELECT * FROM sibyl_state' } }, ...inputs });
    expect(own.status).toBe(403);
    expect(own.body.error).toContain("the server's own data");
    const unknown = await post({ name: 'unknown-db', source: { sql: { connection: 'nope', query: 'SELECT 1' } }, ...inputs });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain('source.sql.connection: "nope" is not a connection of this server');
  });

  it('runs a SQLite connection read-only: DELETE … RETURNING fails the job and deletes nothing', async () => {
    const res = await post({ name: 'delete', source: { sql: { connection: 'scores', query: 'DELETE FROM t RETURNING *' } }, ...inputs });
    expect(res.status).toBe(202);
    const final = await server.batchJobs.whenDone(res.body.id)!;
    expect(final.status).toBe('failed');
    expect(final.error).toMatch(/readonly|read-only|query_only/i);
    const db = new Database(path.join(data, 'scores.sqlite'), { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(2);
    db.close();
    const read = await post({ name: 'select', source: { sql: { connection: 'scores', query: 'SELECT * FROM t ORDER BY id' } }, ...inputs });
    expect(await server.batchJobs.whenDone(read.body.id)).toMatchObject({ status: 'succeeded', rowsWritten: 2 });
  });

  it('never returns the password of a connection, and tells a closed port from a silent one in no way (SSRF)', async () => {
    const results: string[] = [];
    for (const connection of ['silent', 'closed']) {
      const res = await post({ name: `probe-${connection}`, source: { sql: { connection, query: 'SELECT 1', connectTimeoutMs: 300 } }, ...inputs });
      expect(res.status).toBe(202);
      const final = await server.batchJobs.whenDone(res.body.id)!;
      expect(final.status).toBe('failed');
      const shown = await server.http.inject({ method: 'GET', url: `/v1/batch/jobs/${res.body.id}` });
      expect(shown.body).not.toContain('s3cret-PASSWORD');
      expect(shown.json()).toMatchObject({ spec: { source: { sql: { connection } } } });
      results.push(String(final.error).replace(connection, '<name>'));
    }
    expect(results[0]).toBe(results[1]);
    expect(results[0]).toBe(`cannot connect to connection "<name>"; the server's operator can check it (sandbox.connections in sibyl.yaml)`);
    const list = await server.http.inject({ method: 'GET', url: '/v1/batch/jobs' });
    expect(list.body).not.toContain('s3cret-PASSWORD');
  });

  it('resumes a job as its first start allowed: sandboxed when it came over the API, not when the operator ran it', async () => {
    const record = (id: string, origin: string) => ({
      id,
      name: 'resumed',
      status: 'failed' as const,
      spec: { name: 'resumed', source: { csv: path.join(dir, 'outside.csv') }, ...inputs, rejects: path.join(dir, 'state', 'resumed.jsonl') },
      origin,
      createdAtMs: 1,
      rowsRead: 0,
      rowsWritten: 0,
      rowsRejected: 0,
      chunksCommitted: 0,
    });
    await writeFile(path.join(dir, 'outside.csv'), 'id,a,b,c,d\nc0,1,2,3,4\n');
    await server.predictionStore.saveJob(record('from-api', 'api'));
    const refused = await server.http.inject({ method: 'POST', url: '/v1/batch/jobs/from-api/resume' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ reason: 'PATH_NOT_ALLOWED' });
    await server.predictionStore.saveJob(record('from-cli', 'cli'));
    const resumed = await server.http.inject({ method: 'POST', url: '/v1/batch/jobs/from-cli/resume' });
    expect(resumed.statusCode).toBe(202);
    expect(await server.batchJobs.whenDone('from-cli')).toMatchObject({ status: 'succeeded', rowsWritten: 1 });
  });

  it('redacts the password of a URL in a record written by a trusted run (sibyl batch run) in every view', async () => {
    const url = `postgres://admin:t0psecret-PW@db.internal:5432/prod`;
    await server.predictionStore.saveJob({
      id: 'cli-job-1',
      name: 'cli',
      status: 'failed',
      spec: { name: 'cli', source: { sql: { postgres: url, query: 'SELECT 1' } }, store: { postgres: url } },
      origin: 'cli',
      createdAtMs: 1,
      rowsRead: 0,
      rowsWritten: 0,
      rowsRejected: 0,
      chunksCommitted: 0,
      error: `cannot connect to ${url}: refused`,
    });
    for (const url of ['/v1/batch/jobs/cli-job-1', '/v1/batch/jobs?name=cli']) {
      const res = await server.http.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain('t0psecret-PW');
      expect(res.body).toContain('postgres://admin:***@db.internal:5432/prod');
    }
  });
});
