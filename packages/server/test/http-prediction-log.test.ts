// The prediction log through HTTP, on each file sink (SQLite, JSON Lines): sampled records with
// request ids, versions, latencies and redacted fields, queried through
// GET /v1/models/{m}/predictions; and no clear value of a hashed or dropped field anywhere on disk
// or in the server log. Real onnxruntime, real files.
import { createHmac } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import {
  createTestServer,
  identityModel,
  linearClassifierExpected,
  linearClassifierModel,
  makeTempDir,
  removeDir,
  seededRandom,
  writeModelRepository,
} from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';

const HASH_KEY = 'test-hash-key-6f1c';
const SECRET_ROWS = [
  [1234.5, 0.25, -2, 3],
  [98765.25, 1, 1, 1],
  [-4321.75, 0, 0.5, 2],
];
const SECRET_EMAILS = ['alice@example.com', 'bob.secret@example.org'];
const SAMPLED_REQUESTS = 40;
const hmac = (text: string) => createHmac('sha256', HASH_KEY).update(text, 'utf8').digest('hex');

/** Every byte pattern that would betray a secret value: its text and its float32/float64 encodings. */
function betrayals(): { what: string; bytes: Buffer }[] {
  const out = SECRET_EMAILS.map((e) => ({ what: e, bytes: Buffer.from(e, 'utf8') }));
  for (const row of SECRET_ROWS) {
    const v = row[0]!;
    const f32 = Buffer.alloc(4);
    f32.writeFloatLE(v);
    const f64 = Buffer.alloc(8);
    f64.writeDoubleLE(v);
    out.push({ what: String(v), bytes: Buffer.from(String(v), 'utf8') }, { what: `${v} as float32`, bytes: f32 }, { what: `${v} as float64`, bytes: f64 });
  }
  return out;
}

describe.each(['sqlite', 'jsonl'] as const)('prediction log on the %s sink', (sink) => {
  let repo: string;
  let logDir: string;
  let server: SibylServer;
  const logLines: string[] = [];

  const post = (model: string, body: unknown, headers: Record<string, string> = {}) =>
    server.http.inject({ method: 'POST', url: `/v2/models/${model}/infer`, payload: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  const query = async (model: string, qs = '') => {
    const res = await server.http.inject({ method: 'GET', url: `/v1/models/${model}/predictions${qs}` });
    return { status: res.statusCode, body: res.json() };
  };

  beforeAll(async () => {
    repo = await makeTempDir('sibyl-plog-repo-');
    logDir = await makeTempDir('sibyl-plog-');
    const linear = linearClassifierModel({ weights: LINEAR_4X3.weights, bias: LINEAR_4X3.bias }).bytes;
    await writeModelRepository(repo, {
      scored: { versions: { 3: linear }, config: 'predictionLog:\n  sampleRate: 1\n  fields:\n    features: hash\n' },
      echo: { versions: { 1: identityModel('BYTES', ['batch', 1]).bytes }, config: 'predictionLog:\n  sampleRate: 1\n  fields:\n    input: hash\n    output: drop\n' },
      sampled: { versions: { 1: linear }, config: 'predictionLog:\n  sampleRate: 0.5\n' },
      quiet: { versions: { 1: linear } },
    });
    const capture = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    server = await createTestServer(repo, {
      predictionLog: { sink, path: path.join(logDir, `predictions.${sink}`), postgresUrl: '', postgresTable: 'unused', hashKey: HASH_KEY, queueRecords: 1000, flushIntervalMs: 50, retentionDays: 30 },
      log: pino({ level: 'debug' }, capture),
      observability: { random: seededRandom(7) },
    });
    for (const [i, row] of SECRET_ROWS.entries()) {
      const res = await post('scored', { id: `body-${i}`, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: row }] }, { 'x-request-id': `audit-${i}` });
      expect(res.statusCode).toBe(200);
    }
    for (const email of SECRET_EMAILS) expect((await post('echo', { inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 1], data: [email] }] })).statusCode).toBe(200);
    // A request the model refuses, whose error message quotes the secret: it must not reach the log.
    expect((await post('scored', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, SECRET_EMAILS[0], 2, 3] }] })).statusCode).toBe(400);
    for (let i = 0; i < SAMPLED_REQUESTS; i++) expect((await post('sampled', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [i, 0, 0, 0] }] })).statusCode).toBe(200);
    expect((await post('quiet', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] })).statusCode).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await server?.shutdown();
    await removeDir(repo);
    await removeDir(logDir);
  });

  it('records each request with its request id, body id, version, latency and time', async () => {
    const { status, body } = await query('scored');
    expect(status).toBe(200);
    expect(body.model).toBe('scored');
    expect(body.predictions.map((p: { requestId: string; id: string; version: string; outcome: string }) => [p.requestId, p.id, p.version, p.outcome])).toEqual([
      ['audit-0', 'body-0', '3', 'success'],
      ['audit-1', 'body-1', '3', 'success'],
      ['audit-2', 'body-2', '3', 'success'],
    ]);
    for (const p of body.predictions) {
      expect(p.latencyMs).toBeGreaterThan(0);
      expect(p.timeMs).toBeGreaterThan(Date.now() - 60_000);
      expect(p.timeMs).toBeLessThanOrEqual(Date.now());
    }
  });

  it('replaces each element of a hashed field by its keyed HMAC and keeps the other fields', async () => {
    const { body } = await query('scored');
    body.predictions.forEach((p: { inputs: { name: string; redaction: string; data: string[]; shape: number[] }[]; outputs: { name: string; data: number[] }[] }, i: number) => {
      expect(p.inputs).toEqual([{ name: 'features', datatype: 'FP32', shape: [1, 4], redaction: 'hashed', data: SECRET_ROWS[i]!.map((v) => hmac(JSON.stringify(v))) }]);
      const expected = linearClassifierExpected(LINEAR_4X3.weights, LINEAR_4X3.bias, [SECRET_ROWS[i]!]);
      const probabilities = p.outputs.find((o) => o.name === 'probabilities')!;
      probabilities.data.forEach((v, k) => expect(v).toBeCloseTo(expected.probabilities[0]![k]!, 5));
    });
    const echo = (await query('echo')).body.predictions;
    expect(echo.map((p: { inputs: unknown[]; outputs: unknown[] }) => [p.inputs, p.outputs])).toEqual(
      SECRET_EMAILS.map((email) => [
        [{ name: 'input', datatype: 'BYTES', shape: [1, 1], redaction: 'hashed', data: [hmac(email)] }],
        [{ name: 'output', datatype: 'BYTES', shape: [1, 1], redaction: 'dropped' }],
      ]),
    );
  });

  it('samples at the configured rate (decided by the seeded random source)', async () => {
    const random = seededRandom(7);
    const expected = Array.from({ length: SAMPLED_REQUESTS }, () => random()).flatMap((r, i) => (r < 0.5 ? [i] : []));
    expect(expected.length).toBeGreaterThan(5);
    expect(expected.length).toBeLessThan(SAMPLED_REQUESTS - 5);
    const { body } = await query('sampled', `?limit=${SAMPLED_REQUESTS}`);
    expect(body.predictions.map((p: { inputs: { data: number[] }[] }) => p.inputs[0]!.data[0])).toEqual(expected);
    expect((await query('quiet')).body.predictions).toEqual([]);
  });

  it('answers since, until and limit, and refuses bad ones', async () => {
    const all = (await query('scored')).body.predictions;
    expect((await query('scored', '?limit=2')).body.predictions).toEqual(all.slice(0, 2));
    expect((await query('scored', `?since=${all[1].timeMs}`)).body.predictions.map((p: { requestId: string }) => p.requestId)).toEqual(
      all.filter((p: { timeMs: number }) => p.timeMs >= all[1].timeMs).map((p: { requestId: string }) => p.requestId),
    );
    expect((await query('scored', `?since=${new Date(Date.now() + 60_000).toISOString()}`)).body.predictions).toEqual([]);
    expect((await query('scored', `?until=${all[0].timeMs}`)).body.predictions).toEqual(all.filter((p: { timeMs: number }) => p.timeMs < all[0].timeMs));
    const bad = await query('scored', '?since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('since="yesterday" is not a time');
    expect((await query('scored', '?limit=0')).status).toBe(400);
    expect((await query('nosuchmodel')).status).toBe(404);
  });

  it('counts the records it wrote', async () => {
    await query('scored'); // flushes
    const metrics = (await server.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('sibyl_prediction_log_records_total{model="scored",outcome="written"} 3');
    expect(metrics).toContain('sibyl_prediction_log_records_total{model="echo",outcome="written"} 2');
  });

  it('leaves no clear value of a hashed or dropped field on disk or in the log', async () => {
    await query('scored');
    await server.shutdown(); // closes the sink: everything is on disk
    const files = await readdir(logDir);
    expect(files.length).toBeGreaterThan(0);
    let scanned = 0;
    for (const file of files) {
      const bytes = await readFile(path.join(logDir, file));
      scanned += bytes.length;
      for (const { what, bytes: pattern } of betrayals()) expect(bytes.includes(pattern), `${what} found in ${file}`).toBe(false);
      // The hashes are there, so the scan looked at the right files.
    }
    const everything = Buffer.concat(await Promise.all(files.map((f) => readFile(path.join(logDir, f))))).toString('latin1');
    expect(everything).toContain(hmac(SECRET_EMAILS[0]!));
    expect(scanned).toBeGreaterThan(0);
    const log = logLines.join('');
    expect(log).toContain('INPUT_DATA_MISMATCH'); // the refused request was logged…
    for (const { what } of betrayals().filter((b) => !b.what.includes(' as '))) expect(log.includes(what), `${what} in the server log`).toBe(false);
  });
});
