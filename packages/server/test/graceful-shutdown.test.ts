// SibylServer.shutdown() in process, over real sockets on port 0, with the shutdown's time on a
// manual clock: the grace period (503 SERVER_DRAINING with Connection: close, listeners still
// open, readiness false), the listeners closing after it, and a drain that always ends.
import net from 'node:net';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { createTestServer, linearClassifierModel, makeTempDir, ManualClock, parsePrometheusText, removeDir, sampleValue, writeModelRepository } from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';

const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });

interface Answer {
  status: number | string;
  connection: string | undefined;
  reason: unknown;
}

function call(url: string, agent: Agent | false, method = 'POST', body: string | null = BODY): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(url, { method, agent, headers: body === null ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, reason: text.startsWith('{') ? (JSON.parse(text) as { reason?: unknown }).reason : undefined }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? err.message, connection: undefined, reason: undefined }));
    req.end(body ?? undefined);
  });
}

/** Lets callbacks of settled promises and finished I/O run. */
const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** Resolves once `server` has read the headers of a request whose body is still arriving (its body's cost is held). */
async function bodyArriving(server: SibylServer): Promise<void> {
  await vi.waitFor(async () => {
    const metrics = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
    expect(sampleValue(metrics, 'sibyl_http_body_budget_held_bytes')).toBeGreaterThan(0);
  }, { timeout: 10_000, interval: 10 });
}

let repo: string;
const servers: SibylServer[] = [];

beforeAll(async () => {
  repo = await makeTempDir('sibyl-graceful-');
  await writeModelRepository(repo, { linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } } });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.shutdown()));
  await removeDir(repo);
});

async function listening(options: { shutdownGracePeriodMs: number; drainTimeoutMs: number; clock?: ManualClock }): Promise<{ server: SibylServer; url: string }> {
  const server = await createTestServer(repo, options);
  servers.push(server);
  await server.http.listen({ host: '127.0.0.1', port: 0 });
  return { server, url: server.url };
}

describe('graceful shutdown', () => {
  it('keeps the listener open for the grace period, answering 503 SERVER_DRAINING with Connection: close; closes it after', async () => {
    const clock = new ManualClock();
    const { server, url } = await listening({ shutdownGracePeriodMs: 5000, drainTimeoutMs: 30_000, clock });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await call(`${url}/v2/models/linear/infer`, agent);
      expect(before).toMatchObject({ status: 200, connection: 'keep-alive' });
      const stopping = server.shutdown();
      await turn();

      // During the grace period: not ready, new requests refused with a reason, connections closed after each answer.
      expect(await call(`${url}/v2/health/ready`, false, 'GET', null)).toMatchObject({ status: 503, connection: 'close' });
      expect(await call(`${url}/v2/health/live`, false, 'GET', null)).toMatchObject({ status: 200 });
      expect(await call(`${url}/v2/models/linear/infer`, agent)).toEqual({ status: 503, connection: 'close', reason: 'SERVER_DRAINING' });
      expect(await call(`${url}/v2/models/linear/infer`, false)).toEqual({ status: 503, connection: 'close', reason: 'SERVER_DRAINING' });

      // After it: the listener is closed, and the shutdown ends.
      clock.advance(5000);
      expect(await stopping).toEqual({ drained: true, released: true });
      expect((await call(`${url}/v2/models/linear/infer`, false)).status).toBe('ECONNREFUSED');
    } finally {
      agent.destroy();
    }
  });

  it('answers a request in flight with Connection: close, and closes the connections that sent nothing when the listener closes', async () => {
    const { server, url } = await listening({ shutdownGracePeriodMs: 0, drainTimeoutMs: 30_000 });
    const idle = net.connect(Number(new URL(url).port), '127.0.0.1');
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    idle.on('error', () => undefined);
    await new Promise((resolve) => idle.once('connect', resolve));
    // A request whose body arrives after the shutdown began: in flight, so answered.
    const inFlight = net.connect(Number(new URL(url).port), '127.0.0.1');
    let answer = '';
    inFlight.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    // The server closes the connection after its answer.
    const answered = new Promise<void>((resolve) => inFlight.once('close', () => resolve()));
    await new Promise((resolve) => inFlight.once('connect', resolve));
    inFlight.write(`POST /v2/models/linear/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY.slice(0, 10)}`);
    await bodyArriving(server);
    const stopping = server.shutdown();
    await turn();
    inFlight.write(BODY.slice(10));
    await answered;
    await idleClosed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer.toLowerCase()).toContain('connection: close\r\n');
    expect(await stopping).toEqual({ drained: true, released: true });
  });

  it('closes a connection whose headers never end when the listener closes, instead of waiting out the drain timeout', async () => {
    // Node stops enforcing headersTimeout once its server closes: this connection would hold the drain to its end.
    const { server, url } = await listening({ shutdownGracePeriodMs: 0, drainTimeoutMs: 30_000 });
    const partial = net.connect(Number(new URL(url).port), '127.0.0.1');
    partial.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => partial.once('close', () => resolve()));
    await new Promise((resolve) => partial.once('connect', resolve));
    partial.write('POST /v2/models/linear/infer HTTP/1.1\r\nHost: localhost\r\nContent-Ty');
    await turn();
    expect(await server.shutdown()).toEqual({ drained: true, released: true });
    await closed;
  });

  it('ends when the drain timeout passes, although a request never finishes arriving', async () => {
    const { server, url } = await listening({ shutdownGracePeriodMs: 0, drainTimeoutMs: 300 });
    const stuck = net.connect(Number(new URL(url).port), '127.0.0.1');
    stuck.on('error', () => undefined);
    const cut = new Promise<void>((resolve) => stuck.once('close', () => resolve()));
    await new Promise((resolve) => stuck.once('connect', resolve));
    stuck.write('PUT /v2/logging HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"lev');
    await bodyArriving(server);
    expect(await server.shutdown()).toEqual({ drained: false, released: true });
    await cut;
  });
});
