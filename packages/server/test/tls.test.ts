// TLS end to end (issue 15 item 4): a real server on 127.0.0.1 with the test-only certificates of
// test/fixtures/tls (scripts/make-test-certs.sh), spoken to with node:https and grpc-js over TLS
// (curl: tls-curl.conformance.test.ts); the certificate renewed by renaming new files over the old
// ones while the server runs; and mTLS, where the client certificate's identity becomes the
// request's principal.
import { copyFile, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { grpcClient } from '@sibyl/client/grpc';
import { GRPC_LOADER_OPTIONS } from '@sibyl/protocol';
import { ConfigError } from '../src/config/validate.ts';
import type { RequestContext } from '../src/core/request-context.ts';
import type { SibylServer } from '../src/server.ts';
import { createTestServer, identityModel, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/tls/', import.meta.url));
const fixture = (name: string): Promise<Buffer> => readFile(FIXTURES + name);
const PROTO_DIR = fileURLToPath(new URL('../../protocol/proto/', import.meta.url));
const INFER_BODY = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });

let repo: string;
let ca: Buffer;

interface Answer {
  status: number;
  body: string;
  /** The server certificate the connection was made with. */
  certificate: tls.PeerCertificate;
  reusedSocket: boolean;
}

/** One HTTPS request with node:https, trusting the test CA. */
function request(url: string, options: https.RequestOptions & { body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ca, method: options.body === undefined ? 'GET' : 'POST', headers: options.body === undefined ? {} : { 'content-type': 'application/json' }, ...options }, (res) => {
      const certificate = (res.socket as tls.TLSSocket).getPeerCertificate();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body, certificate, reusedSocket: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The certificate a new TLS connection to `port` is shown (h2, as gRPC clients ask). */
function certificateAt(port: number): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      const certificate = socket.getPeerCertificate();
      socket.end();
      resolve(certificate);
    });
    socket.on('error', reject);
  });
}

type Message = Record<string, unknown>;
function inferenceClient(address: string, credentials: grpc.ChannelCredentials): grpc.Client {
  const definition = grpc.loadPackageDefinition(loadSync('grpc_service.proto', { ...GRPC_LOADER_OPTIONS, includeDirs: [PROTO_DIR] }));
  const Service = (definition.inference as Record<string, grpc.ServiceClientConstructor>).GRPCInferenceService!;
  return new Service(address, credentials, { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' });
}
function rpc(client: grpc.Client, method: string, message: Message = {}): Promise<Message> {
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, (r: Message, cb: (e: grpc.ServiceError | null, r: Message) => void) => void>)[method]!.call(client, message, (err, response) =>
      err === null ? resolve(response) : reject(err),
    ),
  );
}
const GRPC_INFER = { model_name: 'echo', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 2] } }] };

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  ca = await fixture('test-ca.pem');
  repo = await makeTempDir('sibyl-tls-');
  await writeModelRepository(repo, { echo: { versions: { 1: identityModel('FP32', ['batch', 2]).bytes } } });
}, 60_000);

afterAll(async () => {
  await removeDir(repo);
});

describe('TLS on every listener, renewed without a restart', () => {
  let server: SibylServer;
  let certDir: string;
  let base: string;
  let grpcPort: number;
  let lines: Record<string, unknown>[];

  beforeAll(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'sibyl-tls-certs-'));
    await copyFile(FIXTURES + 'test-server.pem', join(certDir, 'server.pem'));
    await copyFile(FIXTURES + 'test-server.key', join(certDir, 'server.key'));
    lines = [];
    server = await createTestServer(repo, {
      log: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }),
      metrics: { enabled: true, port: 0 },
      tls: { certFile: join(certDir, 'server.pem'), keyFile: join(certDir, 'server.key'), clientCertificates: 'none', reloadIntervalMs: 100, clientPrincipals: {} },
    });
    await server.http.listen({ host: '127.0.0.1', port: 0 });
    await server.metricsHttp!.listen({ host: '127.0.0.1', port: 0 });
    grpcPort = await server.grpc.listen('127.0.0.1', 0);
    base = server.url;
  }, 60_000);

  afterAll(async () => {
    await server?.shutdown();
    await rm(certDir, { recursive: true, force: true });
  });

  it('serves HTTPS with the configured certificate, and nothing in clear', async () => {
    expect(base).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ready = await request(`${base}/v2/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.certificate.subject.CN).toBe('localhost');
    const infer = await request(`${base}/v2/models/echo/infer`, { body: INFER_BODY });
    expect(infer.status).toBe(200);
    expect(JSON.parse(infer.body)).toMatchObject({ outputs: [{ data: [1, 2] }] });
    // A client that does not trust the test CA refuses the server.
    await expect(request(`${base}/v2/health/ready`, { ca: undefined })).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    // Plain HTTP gets no answer from the TLS listener.
    const plain = await new Promise<string>((resolve) =>
      http
        .get(base.replace('https:', 'http:') + '/v2/health/ready', (res) => resolve(`status ${res.statusCode}`))
        .on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message)),
    );
    expect(plain).not.toMatch(/^status 2/);
  });

  it('serves the metrics listener over TLS', async () => {
    expect(server.metricsUrl).toMatch(/^https:/);
    const metrics = await request(`${server.metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('# TYPE');
  });

  it('serves gRPC over TLS to a grpc-js client trusting the CA, and refuses a plain one', async () => {
    const secure = inferenceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createSsl(ca));
    const plain = inferenceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    try {
      expect(await rpc(secure, 'ServerLive')).toEqual({ live: true });
      expect(await rpc(secure, 'ModelInfer', GRPC_INFER)).toMatchObject({ model_name: 'echo', outputs: [{ name: 'output' }] });
      await expect(rpc(plain, 'ServerLive')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      secure.close();
      plain.close();
    }
  });

  it('takes a renewed certificate renamed over the old files for new connections; open connections keep working', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const grpcClient = inferenceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createSsl(ca));
    try {
      const before = await request(`${base}/v2/health/ready`, { agent });
      expect(before.certificate.serialNumber).toBe('03E9');
      expect(await rpc(grpcClient, 'ServerLive')).toEqual({ live: true });
      for (const [from, to] of [
        ['test-server-renewed.key', 'server.key'],
        ['test-server-renewed.pem', 'server.pem'],
      ] as const) {
        await copyFile(FIXTURES + from, join(certDir, `.${to}.new`));
        await rename(join(certDir, `.${to}.new`), join(certDir, to));
      }
      await until(async () => (await request(`${base}/v2/health/ready`, { agent: false })).certificate.serialNumber === '03EA', 'the renewed HTTPS certificate');
      const renewed = await request(`${base}/v2/health/ready`, { agent: false });
      expect(renewed.certificate.subject.CN).toBe('localhost-renewed');
      expect((await request(`${server.metricsUrl}/metrics`, { agent: false })).certificate.serialNumber).toBe('03EA');
      expect((await certificateAt(grpcPort)).serialNumber).toBe('03EA');
      // The connection opened before the renewal still answers, on the old certificate.
      const after = await request(`${base}/v2/health/ready`, { agent });
      expect(after.reusedSocket).toBe(true);
      expect(after.certificate.serialNumber).toBe('03E9');
      expect(after.status).toBe(200);
      expect(await rpc(grpcClient, 'ModelInfer', GRPC_INFER)).toMatchObject({ model_name: 'echo' });
      // New gRPC channels work on the renewed certificate.
      const fresh = inferenceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createSsl(ca));
      expect(await rpc(fresh, 'ServerLive')).toEqual({ live: true });
      fresh.close();
      expect(lines.some((l) => String(l.msg).includes('new certificate in use') && l.serialNumber === '03EA')).toBe(true);
    } finally {
      agent.destroy();
      grpcClient.close();
    }
  });

  it('keeps serving the current certificate when a broken one is renamed in, and logs why', async () => {
    const current = (await request(`${base}/v2/health/ready`, { agent: false })).certificate.serialNumber;
    const errorsBefore = lines.filter((l) => l.level === 50).length;
    // The original certificate without its key: the key on disk belongs to the renewed one.
    await copyFile(FIXTURES + 'test-server.pem', join(certDir, '.server.pem.new'));
    await rename(join(certDir, '.server.pem.new'), join(certDir, 'server.pem'));
    await until(async () => lines.filter((l) => l.level === 50).length > errorsBefore, 'the error line');
    const error = lines.filter((l) => l.level === 50).at(-1)!;
    expect(error.field).toBe('tls.keyFile');
    expect(String(error.msg)).toContain('the previous certificate stays in use');
    expect((await request(`${base}/v2/health/ready`, { agent: false })).certificate.serialNumber).toBe(current);
    expect((await certificateAt(grpcPort)).serialNumber).toBe(current);
    const secure = inferenceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createSsl(ca));
    expect(await rpc(secure, 'ServerLive')).toEqual({ live: true });
    secure.close();
  });
});

/**
 * A server with client certificates `mode`, listening on 127.0.0.1; every request context the
 * core receives is pushed to `contexts`.
 */
async function mtlsServer(mode: 'request' | 'require', clientPrincipals: Record<string, string[]>, contexts: RequestContext[]): Promise<{ server: SibylServer; base: string; grpcPort: number }> {
  const server = await createTestServer(repo, {
    tls: { certFile: FIXTURES + 'test-server.pem', keyFile: FIXTURES + 'test-server.key', caFile: FIXTURES + 'test-ca.pem', clientCertificates: mode, reloadIntervalMs: 5000, clientPrincipals },
  });
  const infer = server.core.infer.bind(server.core);
  vi.spyOn(server.core, 'infer').mockImplementation((model, selector, req, context) => {
    contexts.push(context);
    return infer(model, selector, req, context);
  });
  await server.http.listen({ host: '127.0.0.1', port: 0 });
  const grpcPort = await server.grpc.listen('127.0.0.1', 0);
  return { server, base: server.url, grpcPort };
}

describe('mTLS: client certificates required, their identity the principal', () => {
  let server: SibylServer;
  let base: string;
  let grpcPort: number;
  const contexts: RequestContext[] = [];
  let client: { cert: Buffer; key: Buffer };
  let untrusted: { cert: Buffer; key: Buffer };

  beforeAll(async () => {
    client = { cert: await fixture('test-client.pem'), key: await fixture('test-client.key') };
    untrusted = { cert: await fixture('test-untrusted-client.pem'), key: await fixture('test-untrusted-client.key') };
    ({ server, base, grpcPort } = await mtlsServer('require', { 'test-client': ['infer:*'] }, contexts));
  }, 60_000);

  afterAll(async () => {
    await server?.shutdown();
  });

  it('HTTPS: refuses a connection without a client certificate, or with one the CA did not sign', async () => {
    await expect(request(`${base}/v2/health/ready`, { agent: false })).rejects.toThrow();
    await expect(request(`${base}/v2/health/ready`, { agent: false, ...untrusted })).rejects.toThrow();
    expect(contexts).toHaveLength(0);
  });

  it('HTTPS: with the client certificate, the request context carries its principal', async () => {
    contexts.length = 0;
    const answer = await request(`${base}/v2/models/echo/infer`, { agent: false, body: INFER_BODY, ...client });
    expect(answer.status).toBe(200);
    expect(contexts.map((c) => [c.entry, c.principal])).toEqual([['http', { id: 'test-client', scopes: ['infer:*'] }]]);
  });

  it('gRPC: refuses a channel without a client certificate; with it, the context carries the principal', async () => {
    const anonymous = inferenceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createSsl(ca));
    const stranger = inferenceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createSsl(ca, untrusted.key, untrusted.cert));
    const known = inferenceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createSsl(ca, client.key, client.cert));
    try {
      await expect(rpc(anonymous, 'ServerLive')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      await expect(rpc(stranger, 'ServerLive')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      contexts.length = 0;
      expect(await rpc(known, 'ModelInfer', GRPC_INFER)).toMatchObject({ model_name: 'echo' });
      expect(contexts.map((c) => [c.entry, c.principal])).toEqual([['grpc', { id: 'test-client', scopes: ['infer:*'] }]]);
    } finally {
      for (const c of [anonymous, stranger, known]) c.close();
    }
  });
});

describe('mTLS: client certificates requested', () => {
  let server: SibylServer;
  let base: string;
  let grpcPort: number;
  const contexts: RequestContext[] = [];

  beforeAll(async () => {
    ({ server, base, grpcPort } = await mtlsServer('request', { 'test-client': ['infer:echo'], '*': ['read'] }, contexts));
  }, 60_000);

  afterAll(async () => {
    await server?.shutdown();
  });

  it('HTTPS: answers with or without a certificate; only one the CA verified names a principal', async () => {
    const client = { cert: await fixture('test-client.pem'), key: await fixture('test-client.key') };
    const untrusted = { cert: await fixture('test-untrusted-client.pem'), key: await fixture('test-untrusted-client.key') };
    contexts.length = 0;
    for (const credentials of [{}, untrusted, client]) {
      expect((await request(`${base}/v2/models/echo/infer`, { agent: false, body: INFER_BODY, ...credentials })).status).toBe(200);
    }
    // The untrusted certificate's CN (untrusted-client) would get '*''s scopes if it were believed.
    expect(contexts.map((c) => c.principal)).toEqual([undefined, undefined, { id: 'test-client', scopes: ['infer:echo'] }]);
  });

  it("a certificate's principal has its scopes checked even with authentication off, over HTTPS and gRPC alike", async () => {
    const client = { cert: await fixture('test-client.pem'), key: await fixture('test-client.key') };
    // test-client may infer with echo, not read its metadata (`read`); without a certificate,
    // authentication off, anyone may.
    expect((await request(`${base}/v2/models/echo`, { agent: false })).status).toBe(200);
    const refused = await request(`${base}/v2/models/echo`, { agent: false, ...client });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('SCOPE_MISSING');
    const known = inferenceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createSsl(ca, client.key, client.cert));
    const anonymous = inferenceClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createSsl(ca));
    try {
      expect(await rpc(anonymous, 'ModelMetadata', { name: 'echo' })).toMatchObject({ name: 'echo' });
      await expect(rpc(known, 'ModelMetadata', { name: 'echo' })).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
      expect(await rpc(known, 'ModelInfer', GRPC_INFER)).toMatchObject({ model_name: 'echo' });
    } finally {
      for (const c of [known, anonymous]) c.close();
    }
  });

  it("gRPC through @sibyl/client/grpc: the client certificate's principal reaches the context; without one, none", async () => {
    const known = grpcClient(`127.0.0.1:${grpcPort}`, { credentials: grpc.credentials.createSsl(ca, await fixture('test-client.key'), await fixture('test-client.pem')) });
    const anonymous = grpcClient(`127.0.0.1:${grpcPort}`, { credentials: grpc.credentials.createSsl(ca) });
    const echo = { inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [1, 2], data: new Float32Array([1, 2]) }] };
    try {
      contexts.length = 0;
      expect((await known.infer('echo', echo)).outputs[0]!.data).toEqual(new Float32Array([1, 2]));
      await anonymous.infer('echo', echo);
      expect(contexts.map((c) => [c.entry, c.principal])).toEqual([
        ['grpc', { id: 'test-client', scopes: ['infer:echo'] }],
        ['grpc', undefined],
      ]);
    } finally {
      known.close();
      anonymous.close();
    }
  });
});

describe('start-up with unusable TLS files', () => {
  it.each([
    ['a missing certificate file', { certFile: FIXTURES + 'absent.pem', keyFile: FIXTURES + 'test-server.key' }, 'tls.certFile', /absent\.pem cannot be read \(ENOENT\)/],
    ['a key that does not match', { certFile: FIXTURES + 'test-server.pem', keyFile: FIXTURES + 'test-client.key' }, 'tls.keyFile', /not the private key/],
    ['a missing CA file', { certFile: FIXTURES + 'test-server.pem', keyFile: FIXTURES + 'test-server.key', caFile: FIXTURES + 'absent-ca.pem', clientCertificates: 'require' as const }, 'tls.caFile', /cannot be read/],
  ])('refuses %s with a ConfigError naming the field', async (_, files, field, message) => {
    const err = await createTestServer(repo, { tls: { clientCertificates: 'none', reloadIntervalMs: 5000, clientPrincipals: {}, ...files } }).then(
      async (s) => {
        await s.shutdown();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([{ path: field, message: expect.stringMatching(message) }]);
  });
});
