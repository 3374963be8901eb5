// Authentication and scopes end to end (issue 15), over REST (Fastify inject) and gRPC (a real
// grpc-js client on 127.0.0.1): API keys, HS256 tokens, and RS256/ES256 tokens signed by a test
// issuer whose JWKS is served over HTTP on 127.0.0.1, rotated mid-test. Every status (401, 403)
// with the V2 error body and the gRPC status; the principal in the access log, the prediction log
// and the audit log (file and log lines); no key or token in any log line or the audit file.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_LOADER_OPTIONS } from '@sibyl/protocol';
import { hashApiKey } from '../src/security/api-keys.ts';
import type { SibylServer } from '../src/server.ts';
import { JwksServer, ScriptedRuntime, createTestServer, makeTempDir, removeDir, signHs256, writeModelRepository } from '../src/testing/index.ts';

const KEYS = {
  reader: 'sibyl_reader-key-000000000000000000000000',
  scorer: 'sibyl_scorer-key-000000000000000000000000',
  operator: 'sibyl_operator-key-0000000000000000000000',
  batcher: 'sibyl_batcher-key-00000000000000000000000',
};
const SECRET = 'hs256-shared-secret-for-the-auth-test-suite';
const ISS = 'https://issuer.test';
const AUD = 'sibyl-test';

type Message = Record<string, unknown>;

let repo: string;
let dir: string;
let issuer: JwksServer;
let server: SibylServer;
let client: grpc.Client;
const lines: string[] = [];
/** Every credential sent during the suite: none may appear in a log line or the audit file. */
const sent: string[] = [...Object.values(KEYS)];

const INFER = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] });

async function req(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, headers: Record<string, string> = {}, payload?: string) {
  for (const v of Object.values(headers)) sent.push(v.replace(/^Bearer /, ''));
  const res = await server.http.inject({ method, url, headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, payload });
  const json = String(res.headers['content-type'] ?? '').startsWith('application/json');
  return { status: res.statusCode, body: json ? (JSON.parse(res.body) as Message) : undefined, headers: res.headers };
}
const key = (name: keyof typeof KEYS) => ({ authorization: `Bearer ${KEYS[name]}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function grpcCall(method: string, request: Message, metadata: Record<string, string> = {}): Promise<Message> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) {
    md.set(k, v);
    sent.push(v.replace(/^Bearer /, ''));
  }
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, (r: Message, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: Message) => void) => void>)[method]!(request, md, (err, response) =>
      err === null ? resolve(response) : reject(err),
    ),
  );
}
async function grpcStatus(method: string, request: Message, metadata: Record<string, string> = {}): Promise<number> {
  try {
    await grpcCall(method, request, metadata);
    return grpc.status.OK;
  } catch (err) {
    return (err as grpc.ServiceError).code;
  }
}
const modelInfer = (model: string) => ({ model_name: model, inputs: [{ name: 'x', datatype: 'FP32', shape: ['1', '1'], contents: { fp32_contents: [1] } }] });

beforeAll(async () => {
  repo = await makeTempDir('sibyl-auth-');
  dir = await makeTempDir('sibyl-auth-logs-');
  await writeModelRepository(repo, {
    m: { versions: { 1: 'add 1' }, config: 'predictionLog:\n  sampleRate: 1\n' },
    other: { versions: { 1: 'add 2' } },
  });
  issuer = await JwksServer.start('RS256');
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  server = await createTestServer(repo, {
    runtime: new ScriptedRuntime(),
    modelControlMode: 'explicit',
    loadModels: ['*'],
    log: pino({ level: 'debug' }, capture),
    accessLog: true,
    predictionLog: { sink: 'jsonl', path: path.join(dir, 'predictions.jsonl'), postgresUrl: '', postgresTable: 'unused', hashKey: 'k', queueRecords: 1000, flushIntervalMs: 20, retentionDays: 30 },
    auth: {
      apiKeys: {
        reader: { sha256: hashApiKey(KEYS.reader), scopes: ['read'] },
        scorer: { sha256: hashApiKey(KEYS.scorer), scopes: ['infer:m'] },
        operator: { sha256: hashApiKey(KEYS.operator), scopes: ['admin'] },
        batcher: { sha256: hashApiKey(KEYS.batcher), scopes: ['batch:run'] },
      },
      jwt: { secret: SECRET, jwksUrl: issuer.url, issuer: ISS, audience: AUD, jwksCooldownMs: 0 },
    },
    audit: { file: path.join(dir, 'audit.jsonl') },
  });
  const port = await server.grpc.listen('127.0.0.1', 0);
  const protoDir = fileURLToPath(new URL('../../protocol/proto/', import.meta.url));
  const definition = grpc.loadPackageDefinition(loadSync('grpc_service.proto', { ...GRPC_LOADER_OPTIONS, includeDirs: [protoDir] }));
  const Inference = (definition.inference as Record<string, unknown>).GRPCInferenceService as grpc.ServiceClientConstructor;
  client = new Inference(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.shutdown();
  await issuer?.close();
  await removeDir(repo);
  await removeDir(dir);
});

describe('REST', () => {
  it('health probes stay open', async () => {
    expect((await req('GET', '/v2/health/live')).status).toBe(200);
    expect((await req('GET', '/v2/health/ready')).status).toBe(200);
  });

  it('401 without credentials, with the V2 error body and WWW-Authenticate', async () => {
    const res = await req('POST', '/v2/models/m/infer', {}, INFER);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'AUTHENTICATION_REQUIRED' });
    expect(typeof res.body!.error).toBe('string');
    expect(res.headers['www-authenticate']).toBe('Bearer');
    for (const url of ['/v2', '/metrics', '/v2/repository/models', '/v1/models/m/predictions']) expect((await req('GET', url)).status).toBe(401);
  });

  it('401 with a bad key (bearer or x-api-key) or a bad token', async () => {
    expect((await req('POST', '/v2/models/m/infer', { authorization: 'Bearer sibyl_not-a-key-0000000000' }, INFER)).body).toMatchObject({ reason: 'CREDENTIALS_INVALID' });
    expect((await req('POST', '/v2/models/m/infer', { 'x-api-key': 'sibyl_not-a-key-0000000000' }, INFER)).status).toBe(401);
    expect((await req('POST', '/v2/models/m/infer', bearer(await signHs256('another-secret-that-is-long-enough-000', { sub: 'x', scope: 'admin', iss: ISS, aud: AUD })), INFER)).status).toBe(401);
  });

  it('unknown routes answer 401 before 404, so names do not leak', async () => {
    const anonymous = await req('GET', '/v2/no/such/route');
    expect(anonymous.status).toBe(401);
    expect(JSON.stringify(anonymous.body)).not.toContain('no/such');
    const known = await req('GET', '/v2/no/such/route', key('reader'));
    expect(known.status).toBe(404);
  });

  it('a key with its scope is served; without it 403 SCOPE_MISSING', async () => {
    expect((await req('POST', '/v2/models/m/infer', key('scorer'), INFER)).status).toBe(200);
    expect((await req('POST', '/v2/models/m/infer', { 'x-api-key': KEYS.scorer }, INFER)).status).toBe(200);
    const other = await req('POST', '/v2/models/other/infer', key('scorer'), INFER);
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ code: 'PERMISSION_DENIED', reason: 'SCOPE_MISSING' });
    expect((await req('POST', '/v1/models/other:predict', key('scorer'), JSON.stringify({ instances: [[1]] }))).status).toBe(403);
    expect((await req('POST', '/v1/models/m:predict', key('scorer'), JSON.stringify({ instances: [[1]] }))).status).toBe(200);
    expect((await req('GET', '/v2/models/m', key('scorer'))).status).toBe(403);
    expect((await req('GET', '/v2/models/m', key('reader'))).status).toBe(200);
    expect((await req('GET', '/metrics', key('reader'))).status).toBe(200);
    expect((await req('POST', '/v2/models/m/infer', key('reader'), INFER)).status).toBe(403);
  });

  it('management needs admin; batch jobs batch:run; listings read', async () => {
    expect((await req('POST', '/v2/repository/models/other/unload')).status).toBe(401);
    expect((await req('POST', '/v2/repository/models/other/unload', key('reader'))).status).toBe(403);
    expect((await req('POST', '/v2/logging', key('batcher'), JSON.stringify({ level: 'silent' }))).status).toBe(403);
    expect((await req('PUT', '/v2/repository/state', key('reader'), '{}')).status).toBe(403);
    expect((await req('GET', '/v2/repository/state', key('reader'))).status).toBe(403);
    expect((await req('GET', '/v1/batch/jobs', key('reader'))).status).toBe(200);
    expect((await req('POST', '/v1/batch/jobs', key('reader'), '{}')).status).toBe(403);
    // batch:run passes the scope check (the body is then refused for what it is).
    expect((await req('POST', '/v1/batch/jobs', key('batcher'), '{}')).status).toBe(400);
    expect((await req('POST', '/v1/batch/jobs/nope/cancel', key('batcher'))).status).toBe(403);
    expect((await req('POST', '/v2/repository/models/other/unload', key('operator'))).status).toBe(200);
    expect((await req('POST', '/v2/repository/models/other/load', key('operator'))).status).toBe(200);
  });

  it('JWTs: RS256 from the JWKS, HS256 from the secret; expired, early, wrong audience or issuer refused', async () => {
    const alice = await issuer.sign({ sub: 'alice', scope: 'infer:m', iss: ISS, aud: AUD });
    expect((await req('POST', '/v2/models/m/infer', bearer(alice), INFER)).status).toBe(200);
    expect((await req('POST', '/v2/models/other/infer', bearer(alice), INFER)).status).toBe(403);
    const svc = await signHs256(SECRET, { sub: 'svc', scope: 'read', iss: ISS, aud: AUD });
    expect((await req('GET', '/v2/repository/models', bearer(svc))).status).toBe(200);
    for (const bad of [{ expiresInSec: -120 }, { notBeforeSec: 120 }, { aud: 'elsewhere' }, { iss: 'https://evil.test' }]) {
      const res = await req('POST', '/v2/models/m/infer', bearer(await issuer.sign({ sub: 'alice', scope: 'infer:m', iss: ISS, aud: AUD, ...bad })), INFER);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ reason: 'CREDENTIALS_INVALID' });
    }
  });

  it('key rotation: tokens of a new key id are accepted without a restart', async () => {
    await issuer.rotate('ES256', false);
    const bob = await issuer.sign({ sub: 'bob', scope: 'infer:*', iss: ISS, aud: AUD });
    expect((await req('POST', '/v2/models/other/infer', bearer(bob), INFER)).status).toBe(200);
  });
});

describe('gRPC', () => {
  it('ServerLive and ServerReady stay open', async () => {
    expect(await grpcStatus('ServerLive', {})).toBe(grpc.status.OK);
    expect(await grpcStatus('ServerReady', {})).toBe(grpc.status.OK);
  });

  it('UNAUTHENTICATED without or with bad credentials', async () => {
    expect(await grpcStatus('ModelInfer', modelInfer('m'))).toBe(grpc.status.UNAUTHENTICATED);
    expect(await grpcStatus('ModelInfer', modelInfer('m'), { authorization: 'Bearer sibyl_not-a-key-0000000000' })).toBe(grpc.status.UNAUTHENTICATED);
    expect(await grpcStatus('ServerMetadata', {})).toBe(grpc.status.UNAUTHENTICATED);
    expect(await grpcStatus('RepositoryModelUnload', { model_name: 'other' })).toBe(grpc.status.UNAUTHENTICATED);
    const expired = await issuer.sign({ sub: 'alice', scope: 'infer:m', iss: ISS, aud: AUD, expiresInSec: -120 });
    expect(await grpcStatus('ModelInfer', modelInfer('m'), bearer(expired))).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('PERMISSION_DENIED with the wrong scope; OK with the right one (key or token, authorization or x-api-key)', async () => {
    expect(await grpcStatus('ModelInfer', modelInfer('m'), key('scorer'))).toBe(grpc.status.OK);
    expect(await grpcStatus('ModelInfer', modelInfer('m'), { 'x-api-key': KEYS.scorer })).toBe(grpc.status.OK);
    expect(await grpcStatus('ModelInfer', modelInfer('other'), key('scorer'))).toBe(grpc.status.PERMISSION_DENIED);
    expect(await grpcStatus('ModelMetadata', { name: 'm' }, key('scorer'))).toBe(grpc.status.PERMISSION_DENIED);
    expect(await grpcStatus('ModelMetadata', { name: 'm' }, key('reader'))).toBe(grpc.status.OK);
    expect(await grpcStatus('RepositoryModelUnload', { model_name: 'other' }, key('reader'))).toBe(grpc.status.PERMISSION_DENIED);
    const token = await issuer.sign({ sub: 'carol', scope: 'infer:m', iss: ISS, aud: AUD });
    expect(await grpcStatus('ModelInfer', modelInfer('m'), bearer(token))).toBe(grpc.status.OK);
    expect(await grpcStatus('ModelInfer', modelInfer('other'), bearer(token))).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('ModelStreamInfer: refused without credentials; each message checked against its model', async () => {
    const stream = (metadata: Record<string, string>, models: string[]) =>
      new Promise<{ status: number; answers: Message[] }>((resolve) => {
        const md = new grpc.Metadata();
        for (const [k, v] of Object.entries(metadata)) md.set(k, v);
        const call = (client as unknown as Record<string, (m: grpc.Metadata) => grpc.ClientDuplexStream<Message, Message>>).ModelStreamInfer!(md);
        const answers: Message[] = [];
        call.on('data', (a: Message) => answers.push(a));
        call.on('error', (e: grpc.ServiceError) => resolve({ status: e.code, answers }));
        call.on('end', () => resolve({ status: grpc.status.OK, answers }));
        for (const m of models) call.write(modelInfer(m));
        call.end();
      });
    expect((await stream({}, ['m'])).status).toBe(grpc.status.UNAUTHENTICATED);
    const { status, answers } = await stream(key('scorer'), ['m', 'other']);
    expect(status).toBe(grpc.status.OK);
    expect(answers.map((a) => a.error_message === '').sort()).toEqual([false, true]);
    expect(answers.find((a) => a.error_message !== '')!.error_message).toContain('infer:other');
  });
});

describe('the principal in the logs', () => {
  it('the prediction log records the principal id', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100)); // the sink's flush interval
    const res = await req('GET', '/v1/models/m/predictions', key('reader'));
    expect(res.status).toBe(200);
    const principals = new Set((res.body!.predictions as { principal?: string }[]).map((p) => p.principal));
    expect(principals).toEqual(new Set(['scorer', 'alice', 'carol']));
  });

  it('the access log names the principal', () => {
    const access = lines.map((l) => JSON.parse(l) as Message).filter((l) => l.msg === 'request completed');
    expect(access.some((l) => l.principal === 'scorer' && l.statusCode === 200)).toBe(true);
    expect(access.some((l) => l.principal === undefined && l.statusCode === 401)).toBe(true);
  });

  it('the audit log: who, what, target, when, status; as log lines and in the file', async () => {
    const auditLines = lines.map((l) => JSON.parse(l) as Message).filter((l) => l.audit === true);
    expect(auditLines).toContainEqual(expect.objectContaining({ principal: 'operator', entry: 'http', action: 'POST /v2/repository/models/:model/unload', target: { model: 'other' }, status: 200 }));
    expect(auditLines).toContainEqual(expect.objectContaining({ principal: 'reader', action: 'POST /v2/repository/models/:model/unload', status: 403 }));
    expect(auditLines).toContainEqual(expect.objectContaining({ principal: 'unauthenticated', action: 'POST /v2/repository/models/:model/unload', status: 401 }));
    expect(auditLines).toContainEqual(expect.objectContaining({ principal: 'reader', entry: 'grpc', action: 'RepositoryModelUnload', target: { model: 'other' }, status: 403, reason: 'SCOPE_MISSING' }));
    expect(auditLines).toContainEqual(expect.objectContaining({ principal: 'reader', action: 'PUT /v2/repository/state', status: 403 }));
    for (const l of auditLines) expect(Date.parse(String(l.time))).toBeGreaterThan(Date.now() - 120_000);
    // Reads are not audited.
    expect(auditLines.some((l) => String(l.action).startsWith('GET '))).toBe(false);
    await server.access.audit.close(); // flushes the file (shutdown closes it too)
    const file = (await readFile(path.join(dir, 'audit.jsonl'), 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Message);
    expect(file).toContainEqual(expect.objectContaining({ principal: 'operator', action: 'POST /v2/repository/models/:model/load', target: { model: 'other' }, status: 200 }));
    expect(file.length).toBe(auditLines.length);
  });

  it('no key or token appears in any log line, the audit file or the prediction log', async () => {
    const written = [lines.join('\n'), await readFile(path.join(dir, 'audit.jsonl'), 'utf8'), await readFile(path.join(dir, 'predictions.jsonl'), 'utf8')].join('\n');
    expect(lines.length).toBeGreaterThan(20);
    const credentials = [...new Set(sent)].filter((c) => c.length >= 16);
    expect(credentials.length).toBeGreaterThan(10);
    for (const credential of credentials) expect(written).not.toContain(credential);
    expect(written).not.toContain(SECRET);
  });
});
