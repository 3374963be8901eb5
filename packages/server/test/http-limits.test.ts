// HTTP input limits, in process (Fastify inject) and over a real socket for the receive timeouts:
// the byte budget for bodies in flight, the request id's length, the nesting of management JSON
// bodies, the length of path parameters, and slow clients.
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { encodeInferRequestBinary } from '@sibyl/protocol';
import { ScriptedRuntime, createTestServer, makeTempDir, removeDir, writeModelRepository, type TestServerOptions } from '../src/testing/index.ts';

let repo: string;
const servers: SibylServer[] = [];

beforeAll(async () => {
  repo = await makeTempDir('sibyl-http-limits-');
  await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
});

afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.shutdown()));
  await removeDir(repo);
});

async function start(options: TestServerOptions = {}): Promise<SibylServer> {
  const server = await createTestServer(repo, { runtime: new ScriptedRuntime(), ...options });
  servers.push(server);
  return server;
}

const inferBody = (extra: Record<string, unknown> = {}): string => JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }], ...extra });

/** `text` padded with spaces (still the same JSON) to `bytes`. */
const padded = (text: string, bytes: number): string => text + ' '.repeat(bytes - Buffer.byteLength(text));

const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const nestedObjects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** Resolves once `n` of `promises` have settled; rejects naming `what` if they have not within 10 s. */
function settledCount(promises: readonly Promise<unknown>[], n: number, what: string): Promise<void> {
  let settled = 0;
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`${settled} settled; expected ${what}`)), 10_000);
    for (const p of promises) {
      void p.finally(() => {
        settled += 1;
        if (settled === n) {
          clearTimeout(guard);
          resolve();
        }
      });
    }
  });
}

/** The value of an unlabelled (or exactly labelled) sample in a Prometheus text body. */
const sample = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);

/** Resolves once `server` holds exactly `bytes` of its body budget (a stalled body's cost is reserved). */
async function budgetHeld(server: SibylServer, bytes: number): Promise<void> {
  await vi.waitFor(async () => expect(sample((await server.http.inject({ method: 'GET', url: '/metrics' })).body, 'sibyl_http_body_budget_held_bytes')).toBe(bytes), { timeout: 10_000, interval: 10 });
}

describe('the memory budget for bodies in flight (http.inflightBodyBytes)', () => {
  let server: SibylServer;
  beforeAll(async () => {
    // One largest JSON body (4096 bytes) costs 14 × 4096 = 57344: room for one 4000-byte JSON body, not two.
    server = await start({ http: { bodyLimitBytes: 4096, inflightBodyBytes: 60_000 } });
  });

  it('refuses a body that would go past the budget with 503 BODY_BUDGET_EXHAUSTED and Retry-After, then takes it once the held body is answered', async () => {
    // A: declares 4000 bytes, sends 3000 and stalls: the server holds its whole cost, 14 × 4000.
    const slow = new PassThrough();
    const body = padded(inferBody(), 4000);
    const first = server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { 'content-type': 'application/json', 'content-length': '4000' }, payload: slow });
    slow.write(body.slice(0, 3000));
    await budgetHeld(server, 14 * 4000);

    // B: 4000 declared would cost 56000 more, past 60000: refused before its body is read.
    const refused = await server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { 'content-type': 'application/json' }, payload: body });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ code: 'UNAVAILABLE', reason: 'BODY_BUDGET_EXHAUSTED' });
    expect(refused.json().error).toContain('http.inflightBodyBytes');

    // A small body still fits beside A.
    const small = await server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { 'content-type': 'application/json' }, payload: inferBody() });
    expect(small.statusCode).toBe(200);

    slow.end(body.slice(3000));
    expect((await first).statusCode).toBe(200);
    // A answered: its bytes are given back.
    const after = await server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { 'content-type': 'application/json' }, payload: body });
    expect(after.statusCode).toBe(200);
  });

  it('counts bodies without a Content-Length, and gzip bodies inflated, as their bytes arrive', async () => {
    const slow = new PassThrough();
    const first = server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { 'content-type': 'application/json', 'content-length': '4000' }, payload: slow });
    slow.write(padded(inferBody(), 4000).slice(0, 3000));
    await budgetHeld(server, 14 * 4000);

    // 80 compressed bytes that inflate to 4000: refused as the inflated bytes arrive.
    const gzip = gzipSync(padded(inferBody(), 4000));
    expect(gzip.length).toBeLessThan(200);
    const inflated = await server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: gzip });
    expect(inflated.statusCode).toBe(503);
    expect(inflated.json()).toMatchObject({ reason: 'BODY_BUDGET_EXHAUSTED' });

    // Chunked (no Content-Length): refused when its bytes arrive.
    const chunked = new PassThrough();
    const pending = server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, payload: chunked });
    chunked.end(padded(inferBody(), 4000));
    const refused = await pending;
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ reason: 'BODY_BUDGET_EXHAUSTED' });

    slow.end(padded(inferBody(), 4000).slice(3000));
    expect((await first).statusCode).toBe(200);
    expect((await server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: gzip })).statusCode).toBe(200);
  });
});

describe('the budget counts what a body costs in memory (issue 13 M1: JSON 14×, binary 2×)', () => {
  let server: SibylServer;
  beforeAll(async () => {
    // Sized for about two 4000-byte JSON bodies (2 × 56000 = 112000) or many binary ones.
    server = await start({ http: { bodyLimitBytes: 4096, inflightBodyBytes: 120_000 } });
  });

  const binary = encodeInferRequestBinary({ inputs: [{ name: 'x', datatype: 'FP32', shape: [960, 1], data: new Float32Array(960).fill(1) }] });
  const binaryBody = Buffer.from(binary.body);
  const jsonBody = Buffer.from(padded(inferBody(), binaryBody.length));

  /** Four requests at once, each declaring its length and sending nothing until released. */
  function fourAtOnce(body: Buffer, headers: Record<string, string>) {
    const streams = Array.from({ length: 4 }, () => new PassThrough());
    const answers = streams.map((payload) =>
      server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { ...headers, 'content-length': String(body.length) }, payload }),
    );
    return { answers, send: () => streams.forEach((s) => s.end(body)) };
  }

  it('refuses half of four concurrent large JSON bodies with 503 (from their Content-Length, before they are read) while four binary bodies of the same size all fit', async () => {
    expect(jsonBody.length).toBe(binaryBody.length);
    expect(binaryBody.length).toBeGreaterThan(3800);

    const json = fourAtOnce(jsonBody, { 'content-type': 'application/json' });
    // Two are refused at once, with nothing of their bodies sent; two hold 14 × their size each.
    await settledCount(json.answers, 2, 'two of the four refused before their bodies are sent');
    const held = (await server.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(held, 'sibyl_http_body_budget_held_bytes')).toBe(2 * 14 * jsonBody.length);
    expect(sample(held, 'sibyl_http_body_budget_limit_bytes')).toBe(120_000);
    json.send();
    const jsonAnswers = await Promise.all(json.answers);
    expect(jsonAnswers.map((a) => a.statusCode).sort()).toEqual([200, 200, 503, 503]);
    const refused = jsonAnswers.find((a) => a.statusCode === 503)!;
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ code: 'UNAVAILABLE', reason: 'BODY_BUDGET_EXHAUSTED' });
    expect(refused.json().error).toContain(`this json body needs ${14 * jsonBody.length} more`);

    const bin = fourAtOnce(binaryBody, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(binary.headerLength) });
    await new Promise((resolve) => setImmediate(resolve));
    const heldBinary = (await server.http.inject({ method: 'GET', url: '/metrics' })).body;
    // All four held at once: a 2× cost for the tensor bytes, 14× for the JSON header.
    expect(sample(heldBinary, 'sibyl_http_body_budget_held_bytes')).toBe(4 * (14 * binary.headerLength + 2 * (binaryBody.length - binary.headerLength)));
    bin.send();
    expect((await Promise.all(bin.answers)).map((a) => a.statusCode)).toEqual([200, 200, 200, 200]);

    const after = (await server.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(after, 'sibyl_http_body_budget_held_bytes')).toBe(0);
    expect(sample(after, 'sibyl_http_body_budget_refusals_total{kind="json"}')).toBe(2);
    expect(sample(after, 'sibyl_http_body_budget_refusals_total{kind="binary"}')).toBe(0);
  });
});

describe('a body refused for the budget over a real connection', () => {
  let server: SibylServer;
  let port: number;
  beforeAll(async () => {
    server = await start({ http: { bodyLimitBytes: 4096, inflightBodyBytes: 60_000 } });
    await server.http.listen({ host: '127.0.0.1', port: 0 });
    port = (server.http.server.address() as { port: number }).port;
  });

  it('gets its 503 at once, may finish its upload, and keeps its connection for the next request (no reset for a client still sending)', async () => {
    // A holds the budget: 4000 bytes declared (14 × 4000), 10 sent.
    const holder = connect(port, '127.0.0.1');
    holder.on('error', () => undefined);
    holder.write(`POST /v2/models/m/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n${padded(inferBody(), 4000).slice(0, 10)}`);
    await budgetHeld(server, 14 * 4000);

    const socket = connect(port, '127.0.0.1');
    let received = '';
    let closed = false;
    const responses = (n: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if ((received.match(/HTTP\/1\.1 /g) ?? []).length >= n && received.endsWith('}')) resolve();
          else if (closed) reject(new Error(`the connection closed after ${JSON.stringify(received.slice(0, 300))}`));
        };
        socket.on('data', check);
        socket.on('close', check);
      });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    try {
      const body = padded(inferBody(), 4000);
      socket.write(`POST /v2/models/m/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n`);
      await responses(1);
      expect(received).toMatch(/^HTTP\/1\.1 503 /);
      expect(received).toContain('BODY_BUDGET_EXHAUSTED');
      expect(received.toLowerCase()).not.toContain('connection: close');
      // The client was still sending: the rest of its body is read and dropped, then the same
      // connection serves its next request.
      socket.write(body);
      const small = inferBody();
      socket.write(`POST /v2/models/m/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${small.length}\r\n\r\n${small}`);
      await responses(2);
      expect(received.slice(received.lastIndexOf('HTTP/1.1 '))).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      socket.destroy();
      holder.destroy();
    }
  });
});

describe('the request id', () => {
  let server: SibylServer;
  beforeAll(async () => {
    server = await start();
  });

  it('is echoed up to 256 characters; a longer one gets 400 naming the limit', async () => {
    const ok = await server.http.inject({ method: 'POST', url: '/v2/models/m/infer', payload: inferBody({ id: 'i'.repeat(256) }) });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().id).toBe('i'.repeat(256));
    const long = await server.http.inject({ method: 'POST', url: '/v2/models/m/infer', payload: inferBody({ id: 'i'.repeat(257) }) });
    expect(long.statusCode).toBe(400);
    expect(long.json()).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'MALFORMED_REQUEST' });
    expect(long.json().error).toContain("request 'id' has 257 characters; expected at most 256");
  });
});

describe('deeply nested management bodies', () => {
  let server: SibylServer;
  beforeAll(async () => {
    server = await start({ modelControlMode: 'explicit', loadModels: ['*'] });
  });

  const routes = [
    ['PUT', '/v1/endpoints/x'],
    ['POST', '/v1/batch/jobs'],
    ['PUT', '/v2/repository/state'],
    ['POST', '/v2/repository/models/m/load'],
    ['PUT', '/v2/repository/models/m/labels/stable'],
    ['POST', '/v1/predictions/m/lookup'],
    ['POST', '/v2/logging'],
  ] as const;

  for (const [method, url] of routes) {
    for (const [kind, text] of [
      ['arrays', `{"a":${nestedArrays(100_000)}}`],
      ['objects', nestedObjects(100_000)],
    ] as const) {
      it(`${method} ${url} with 100 000-deep ${kind} → 400 JSON_TOO_DEEP`, async () => {
        const res = await server.http.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: text });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'JSON_TOO_DEEP' });
        expect(res.json().error).toContain('more than 100 deep');
      });
    }
  }

  it.each([
    ['/v2/models/m/infer', `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,1],"data":${nestedArrays(100_000)}}]}`],
    ['/v1/models/m:predict', `{"instances":${nestedArrays(100_000)}}`],
  ])('inference bodies keep their codecs\' own bound: POST %s with 100 000-deep data → 400', async (url, payload) => {
    const res = await server.http.inject({ method: 'POST', url, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_ARGUMENT');
  });

  it('refuses a deep model config inside a load request (parameters.config as a JSON string)', async () => {
    const res = await server.http.inject({ method: 'POST', url: '/v2/repository/models/m/load', payload: JSON.stringify({ parameters: { config: nestedObjects(100_000) } }) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ reason: 'JSON_TOO_DEEP' });
    expect(res.json().error).toContain('parameters.config');
  });
});

describe('path parameters', () => {
  let server: SibylServer;
  beforeAll(async () => {
    server = await start();
  });

  it('addresses names and keys up to 1024 characters', async () => {
    const model = await server.http.inject({ method: 'GET', url: `/v2/models/${'n'.repeat(300)}` });
    expect(model.statusCode).toBe(404);
    expect(model.json()).toMatchObject({ reason: 'MODEL_NOT_FOUND' });
    const key = await server.http.inject({ method: 'GET', url: `/v1/predictions/m/${'k'.repeat(1024)}` });
    expect(key.statusCode).toBe(404);
    expect(key.json()).toMatchObject({ reason: 'PREDICTION_NOT_FOUND' });
  });

  it('answers a longer one with 414 in the error body of the API, naming the limit', async () => {
    const res = await server.http.inject({ method: 'GET', url: `/v1/predictions/m/${'k'.repeat(1025)}` });
    expect(res.statusCode).toBe(414);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'PATH_TOO_LONG' });
    expect(res.json().error).toContain('longer than 1024 characters');
  });

  it('answers a path that does not decode with 400 in the error body of the API', async () => {
    const res = await server.http.inject({ method: 'GET', url: '/v2/models/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'MALFORMED_REQUEST' });
  });
});

describe('slow clients (http.headersTimeoutMs, http.requestReceiveTimeoutMs)', () => {
  let server: SibylServer;
  let port: number;
  beforeAll(async () => {
    server = await start({ http: { headersTimeoutMs: 200, requestReceiveTimeoutMs: 300 } });
    await server.http.listen({ host: '127.0.0.1', port: 0 });
    port = (server.http.server.address() as { port: number }).port;
  });

  /** Sends `text` on a new connection and resolves with all the server wrote once it closes the connection. */
  function sendAndWaitForClose(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      const guard = setTimeout(() => {
        socket.destroy();
        reject(new Error(`the server kept the connection open; it sent ${JSON.stringify(received)}`));
      }, 10_000);
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(guard);
        resolve(received);
      });
      socket.write(text);
    });
  }

  it('answers 408 REQUEST_TIMEOUT and closes a connection whose body stops half-way', async () => {
    const body = inferBody();
    const received = await sendAndWaitForClose(`POST /v2/models/m/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    const json = JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(json).toMatchObject({ code: 'DEADLINE_EXCEEDED', reason: 'REQUEST_TIMEOUT' });
    expect(String(json.error)).toContain('http.requestReceiveTimeoutMs');
  });

  it('answers headers over the limit with 431 HEADERS_TOO_LARGE in the error body of the API', async () => {
    const received = await sendAndWaitForClose(`GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    expect(received).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'RESOURCE_EXHAUSTED', reason: 'HEADERS_TOO_LARGE' });
  });

  it('closes a connection that never sends a request', async () => {
    expect(await sendAndWaitForClose('')).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection whose headers never end', async () => {
    const received = await sendAndWaitForClose('GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n');
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe('PUT /v2/repository/state', () => {
  let server: SibylServer;
  beforeAll(async () => {
    server = await start();
  });

  it.each([
    [{ junk: { a: 1 } }, 'entries.junk: unknown field; allowed fields here: labels, explicit, models, endpoints, batch-jobs'],
    [{ labels: { m: { stable: { version: -1, history: [] } } } }, 'entries.labels.m.stable.version: -1 is not allowed; expected an integer from 1'],
  ])('refuses entries %j with 400 STATE_INVALID naming the field', async (entries, message) => {
    const before = (await server.http.inject({ method: 'GET', url: '/v2/repository/state' })).json().entries;
    const res = await server.http.inject({ method: 'PUT', url: '/v2/repository/state', payload: JSON.stringify({ format: 'sibyl-state', formatVersion: 1, exportedAt: '', entries }) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'STATE_INVALID' });
    expect(res.json().error).toContain(message);
    // Nothing was imported.
    expect((await server.http.inject({ method: 'GET', url: '/v2/repository/state' })).json().entries).toEqual(before);
  });
});

describe('counts and lengths of other inputs', () => {
  let server: SibylServer;
  beforeAll(async () => {
    server = await start();
  });

  it('takes an X-Request-Id of up to 256 characters as the request id, and makes its own for a longer one', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const logged = await start({ log });
    // A client error is logged (at debug) with the request's id.
    await logged.http.inject({ method: 'POST', url: '/v2/repository/index', headers: { 'x-request-id': 'a'.repeat(256) }, payload: 'not json' });
    await logged.http.inject({ method: 'POST', url: '/v2/repository/index', headers: { 'x-request-id': 'b'.repeat(10_000) }, payload: 'not json' });
    const ids = lines.filter((l) => l.reason === 'MALFORMED_REQUEST').map((l) => l.requestId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe('a'.repeat(256));
    expect(ids[1]).toMatch(/^req-[0-9a-z]+$/);
  });

  it('refuses more than 1000 outcomes in one feedback request', async () => {
    expect((await server.http.inject({ method: 'PUT', url: '/v1/endpoints/ep', payload: JSON.stringify({ target: { model: 'm' } }) })).statusCode).toBe(200);
    const feedback = Array.from({ length: 1001 }, (_, i) => ({ id: `r${i}`, outcome: true }));
    const res = await server.http.inject({ method: 'POST', url: '/v1/endpoints/ep/feedback', payload: JSON.stringify({ feedback }) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain('"feedback" has 1001 items; expected at most 1000');
  });
});
