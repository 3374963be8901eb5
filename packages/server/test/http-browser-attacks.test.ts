// Browser-borne attacks replayed (issue 15 item 8): a page of another origin posting to a server on
// localhost (CSRF with Content-Type text/plain, which needs no CORS preflight) and DNS rebinding
// (a foreign name resolving to 127.0.0.1). Both are refused before any route runs; stock clients,
// curl and pages of allowed origins keep working. In process (Fastify inject) and over real
// sockets on 127.0.0.1, for the HTTP listener, the metrics listener and the embedding plugin.
import { request as httpRequest } from 'node:http';
import Fastify, { type RouteOptions } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSibyl } from '../src/index.ts';
import { registerHttpRoutes } from '../src/frontends/http/app.ts';
import { availableMemoryBytes, resolveHttpLimits } from '../src/frontends/http/http-limits.ts';
import type { SibylServer } from '../src/server.ts';
import { ScriptedRuntime, createTestServer, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

const EVIL = 'https://evil.example';
const ALLOWED = 'https://app.example.com';
const INFER = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [41] }] });

let repo: string;
let server: SibylServer;
let logged: Record<string, unknown>[];

beforeAll(async () => {
  repo = await makeTempDir('sibyl-browser-');
  await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
  logged = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  server = await createTestServer(repo, {
    runtime: new ScriptedRuntime(),
    log,
    modelControlMode: 'explicit',
    loadModels: ['*'],
    corsOrigins: [ALLOWED],
    metrics: { enabled: true, port: 0 },
  });
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

const modelState = () => server.models.index().find((m) => m.name === 'm')?.state;

describe('cross-site request forgery, replayed', () => {
  it('a foreign page cannot change the log level (text/plain, no preflight): 403 ORIGIN_REFUSED and nothing changed', async () => {
    const res = await server.http.inject({ method: 'POST', url: '/v2/logging', headers: { origin: EVIL, 'content-type': 'text/plain' }, payload: '{"level":"silent"}' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toMatchObject({ code: 'PERMISSION_DENIED', reason: 'ORIGIN_REFUSED', error: expect.stringContaining('"https://evil.example"') });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect((await server.http.inject({ method: 'GET', url: '/v2/logging' })).json()).toEqual({ level: 'info' });
    // The operator sees what was refused.
    expect(logged.some((l) => l.level === 40 && l.reason === 'ORIGIN_REFUSED' && l.url === '/v2/logging')).toBe(true);
  });

  it('a foreign page cannot unload a model: 403 and the model stays ready', async () => {
    expect(modelState()).toBe('READY');
    const res = await server.http.inject({ method: 'POST', url: '/v2/repository/models/m/unload', headers: { origin: EVIL, 'content-type': 'text/plain' }, payload: '' });
    expect([res.statusCode, res.json().reason]).toEqual([403, 'ORIGIN_REFUSED']);
    expect(modelState()).toBe('READY');
  });

  it('a foreign form post (urlencoded) cannot run a model', async () => {
    const res = await server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { origin: 'http://localhost:3000', 'content-type': 'application/x-www-form-urlencoded' }, payload: INFER });
    expect([res.statusCode, res.json().reason]).toEqual([403, 'ORIGIN_REFUSED']);
  });

  it('a browser that sends no Origin but Sec-Fetch-Site: cross-site is refused too', async () => {
    const res = await server.http.inject({ method: 'POST', url: '/v2/logging', headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' }, payload: '{"level":"debug"}' });
    expect([res.statusCode, res.json().reason]).toEqual([403, 'ORIGIN_REFUSED']);
    expect(server.log.level).toBe('info');
  });

  it('refuses a foreign origin on every route that changes something or runs a model', async () => {
    // Every route registerHttpRoutes adds, found by Fastify's onRoute hook: one added later is covered without editing this test.
    const app = Fastify();
    const routes: RouteOptions[] = [];
    app.addHook('onRoute', (route) => void routes.push(route));
    registerHttpRoutes(app, {
      core: server.core,
      log: pino({ level: 'silent' }),
      limits: resolveHttpLimits(server.config.http, availableMemoryBytes()),
      isDraining: () => false,
      isReady: () => true,
      notReadyReason: () => '',
      serverName: 'sibyl',
      serverVersion: '0',
    });
    await app.ready();
    const unsafe = routes.flatMap((r) => [r.method].flat().filter((m) => !['GET', 'HEAD', 'OPTIONS'].includes(m)).map((method) => ({ method, url: r.url })));
    expect(unsafe.length).toBeGreaterThanOrEqual(20);
    expect(unsafe.map((r) => r.url)).toEqual(expect.arrayContaining(['/v2/logging', '/v2/repository/state', '/v1/batch/jobs', '/v2/models/:model/infer']));
    try {
      for (const { method, url } of unsafe) {
        const res = await app.inject({ method: method as 'POST', url: url.replace(/:[a-z]+/gi, 'm').replace('*', 'm:predict'), headers: { origin: EVIL, 'content-type': 'text/plain' }, payload: '{}' });
        expect([method, url, res.statusCode, res.json().reason]).toEqual([method, url, 403, 'ORIGIN_REFUSED']);
      }
    } finally {
      await app.close();
    }
    expect(modelState()).toBe('READY');
  });
});

describe('what keeps working', () => {
  const infer = (headers: Record<string, string>) => server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers, payload: INFER });

  it.each([
    ['curl -d (form encoding)', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['curl -H Content-Type: application/json', { 'content-type': 'application/json' }],
    ['no Content-Type at all', {}],
    ['octet-stream', { 'content-type': 'application/octet-stream' }],
    ['text/plain without Origin (not a browser)', { 'content-type': 'text/plain' }],
  ])('a request without Origin runs: %s', async (_what, headers) => {
    const res = await infer(headers);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ model_name: 'm', outputs: [{ name: 'y', data: [42] }] });
  });

  it('a page of an allowed (CORS) origin runs a model and reads the answer', async () => {
    const res = await infer({ origin: ALLOWED, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(res.json()).toMatchObject({ outputs: [{ data: [42] }] });
  });

  it("a page of the server's own origin runs a model", async () => {
    const res = await infer({ host: 'localhost:8000', origin: 'http://localhost:8000', 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' });
    expect(res.statusCode).toBe(200);
  });

  it('a foreign page may still GET (the same-origin policy keeps the answer from it; no CORS headers)', async () => {
    const res = await server.http.inject({ method: 'GET', url: '/v2/models/m', headers: { origin: EVIL } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('DNS rebinding, replayed', () => {
  it('a foreign Host gets 421 HOST_REFUSED before any route runs, for reads and writes', async () => {
    const read = await server.http.inject({ method: 'GET', url: '/v2/repository/state', headers: { host: 'evil.example:8000' } });
    expect(read.statusCode).toBe(421);
    expect(read.json()).toMatchObject({ code: 'PERMISSION_DENIED', reason: 'HOST_REFUSED', error: expect.stringContaining('http.allowedHosts') });
    // Same origin as far as the browser knows (the page is evil.example:8000 itself): the Host check stops it.
    const write = await server.http.inject({ method: 'POST', url: '/v2/repository/models/m/unload', headers: { host: 'evil.example:8000', origin: 'http://evil.example:8000' } });
    expect([write.statusCode, write.json().reason]).toEqual([421, 'HOST_REFUSED']);
    expect(modelState()).toBe('READY');
    expect((await server.http.inject({ method: 'GET', url: '/metrics', headers: { host: 'evil.example' } })).statusCode).toBe(421);
    expect((await server.http.inject({ method: 'GET', url: '/no/such/route', headers: { host: 'evil.example' } })).statusCode).toBe(421);
  });

  it('health probes answer whatever the Host (kubelet)', async () => {
    expect((await server.http.inject({ method: 'GET', url: '/v2/health/live', headers: { host: 'evil.example' } })).json()).toEqual({ live: true });
    expect((await server.http.inject({ method: 'GET', url: '/v2/health/ready', headers: { host: 'evil.example' } })).statusCode).toBe(200);
  });

  it('over a real socket on 127.0.0.1: a foreign Host is refused, localhost and IP addresses are served; the metrics listener too', async () => {
    await server.http.listen({ host: '127.0.0.1', port: 0 });
    await server.metricsHttp!.listen({ host: '127.0.0.1', port: 0 });
    const port = (app: { server: { address(): unknown } }) => (app.server.address() as { port: number }).port;
    const get = (p: number, url: string, host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: p, path: url, headers: { host } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject).end();
      });
    const http = port(server.http);
    expect((await get(http, '/v2/models/m', 'evil.example')).status).toBe(421);
    expect((await get(http, '/v2/models/m', `localhost:${http}`)).status).toBe(200);
    expect((await get(http, '/v2/models/m', `127.0.0.1:${http}`)).status).toBe(200);
    const metrics = port(server.metricsHttp!);
    const refused = await get(metrics, '/metrics', 'evil.example');
    expect([refused.status, JSON.parse(refused.body).reason]).toEqual([421, 'HOST_REFUSED']);
    expect((await get(metrics, '/metrics', `127.0.0.1:${metrics}`)).status).toBe(200);
  });
});

describe('configured names', () => {
  it('http.allowedHosts and http.allowedOrigins let a proxied name and a posting page in', async () => {
    const named = await createTestServer(repo, {
      runtime: new ScriptedRuntime(),
      http: { allowedHosts: ['sibyl.example.com'], allowedOrigins: ['https://forms.example.com'] },
    });
    try {
      const ok = await named.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { host: 'sibyl.example.com', origin: 'https://forms.example.com', 'content-type': 'text/plain' }, payload: INFER });
      expect(ok.statusCode).toBe(200);
      // Posting is allowed; reading is not (no CORS headers for an allowedOrigins page).
      expect(ok.headers['access-control-allow-origin']).toBeUndefined();
      const other = await named.http.inject({ method: 'GET', url: '/v2/models/m', headers: { host: 'other.example.com' } });
      expect([other.statusCode, other.json().reason]).toEqual([421, 'HOST_REFUSED']);
    } finally {
      await named.shutdown();
    }
  });
});

describe('the embedding plugin', () => {
  it("guards Sibyl's routes on the application's Fastify instance, not the application's own", async () => {
    const sibyl = await createSibyl({ modelRepository: repo, runtime: new ScriptedRuntime() });
    const app = Fastify();
    app.post('/app/echo', async () => ({ ok: true }));
    await app.register(sibyl.fastifyPlugin, { allowedOrigins: ['https://forms.example.com'] });
    try {
      const csrf = await app.inject({ method: 'POST', url: '/v2/logging', headers: { origin: EVIL, 'content-type': 'text/plain' }, payload: '{"level":"debug"}' });
      expect([csrf.statusCode, csrf.json().reason]).toEqual([403, 'ORIGIN_REFUSED']);
      const rebinding = await app.inject({ method: 'GET', url: '/v2/models/m', headers: { host: 'evil.example' } });
      expect([rebinding.statusCode, rebinding.json().reason]).toEqual([421, 'HOST_REFUSED']);
      const allowed = await app.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { origin: 'https://forms.example.com' }, payload: INFER });
      expect(allowed.statusCode).toBe(200);
      // The application's routes are its own business.
      expect((await app.inject({ method: 'POST', url: '/app/echo', headers: { origin: EVIL, host: 'evil.example' } })).statusCode).toBe(200);
    } finally {
      await app.close();
      await sibyl.close();
    }
  });
});
