// Cross-origin calls (http.corsOrigins), in process: pages of an allowed origin may send and read
// the binary tensor extension's header; other origins get no CORS headers, so browsers refuse.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { createTestServer, identityModel, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

const ALLOWED = 'https://app.example.com';
let repo: string;
let open: SibylServer;
let closed: SibylServer;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-cors-');
  await writeModelRepository(repo, { identity: { versions: { 1: identityModel('FP32', ['batch', 2]).bytes } } });
  open = await createTestServer(repo, { corsOrigins: [ALLOWED] });
  closed = await createTestServer(repo);
}, 60_000);

afterAll(async () => {
  await open?.shutdown();
  await closed?.shutdown();
  await removeDir(repo);
});

const preflight = (server: SibylServer, origin: string) =>
  server.http.inject({
    method: 'OPTIONS',
    url: '/v2/models/identity/infer',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,inference-header-content-length' },
  });

describe('CORS', () => {
  it('answers the preflight of an allowed origin, allowing the binary extension header', async () => {
    const res = await preflight(open, ALLOWED);
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(String(res.headers['access-control-allow-headers'])).toContain('inference-header-content-length');
  });

  it('exposes Inference-Header-Content-Length and Retry-After on answers to an allowed origin', async () => {
    const res = await open.http.inject({ method: 'GET', url: '/v2/health/ready', headers: { origin: ALLOWED } });
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(String(res.headers['access-control-expose-headers'])).toMatch(/inference-header-content-length.*retry-after/);
  });

  it('gives other origins, and servers without corsOrigins, no CORS headers', async () => {
    expect((await preflight(open, 'https://evil.example.com')).headers['access-control-allow-origin']).toBeUndefined();
    const res = await closed.http.inject({ method: 'GET', url: '/v2/health/ready', headers: { origin: ALLOWED } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
