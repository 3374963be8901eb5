import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyedLineWriter } from '../../serving/frontend-vocabulary.ts';
import { installBrowserGuard } from './browser-guard.ts';
import { compileBrowserPolicy } from './browser-policy.ts';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function guarded(options: { hostOnly?: boolean } = {}): { app: FastifyInstance; written: string[]; ran: string[] } {
  const written: string[] = [];
  const ran: string[] = [];
  const lines: KeyedLineWriter = { write: (_log, level, key) => void written.push(`${level} ${key}`) };
  const a: FastifyInstance = Fastify({ loggerInstance: pino({ level: 'silent' }) as FastifyBaseLogger });
  installBrowserGuard(a, { policy: compileBrowserPolicy({ corsOrigins: ['https://app.example.com'] }), exempt: new Set(['/live']), hostOnly: options.hostOnly, lines });
  a.get('/read', async () => (ran.push('read'), { ok: true }));
  a.get('/live', async () => (ran.push('live'), { live: true }));
  a.post('/write', async () => (ran.push('write'), { ok: true }));
  app = a;
  return { app: a, written, ran };
}

describe('installBrowserGuard', () => {
  it('refuses before the route runs, with the V2 error body, and logs the refusal by reason', async () => {
    const { app, written, ran } = guarded();
    const res = await app.inject({ method: 'POST', url: '/write', headers: { origin: 'https://evil.example', 'content-type': 'text/plain' }, payload: 'x' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toMatchObject({ code: 'PERMISSION_DENIED', reason: 'ORIGIN_REFUSED' });
    expect((await app.inject({ method: 'GET', url: '/read', headers: { host: 'evil.example' } })).statusCode).toBe(421);
    expect(ran).toEqual([]);
    expect(written).toEqual(['warn http browser guard ORIGIN_REFUSED', 'warn http browser guard HOST_REFUSED']);
    expect((await app.inject({ method: 'POST', url: '/write', headers: { origin: 'https://app.example.com' } })).statusCode).toBe(200);
    expect(ran).toEqual(['write']);
  });

  it('lets exempt routes through the Host check', async () => {
    const { app, ran } = guarded();
    expect((await app.inject({ method: 'GET', url: '/live', headers: { host: 'evil.example' } })).statusCode).toBe(200);
    expect(ran).toEqual(['live']);
  });

  it('remembers accepted Host values without letting a refused one through, also once its memory is full', async () => {
    const { app } = guarded();
    const status = async (host: string) => (await app.inject({ method: 'GET', url: '/read', headers: { host } })).statusCode;
    expect(await status('localhost:8000')).toBe(200);
    expect(await status('evil.example:8000')).toBe(421);
    expect(await status('localhost:8000')).toBe(200);
    expect(await status('evil.example:8000')).toBe(421);
    for (let i = 0; i < 1100; i++) expect(await status(`10.0.${i >> 8}.${i & 255}`)).toBe(200);
    expect(await status('evil.example:8000')).toBe(421);
    expect(await status('localhost:8000')).toBe(200);
    expect(await status('10.0.4.70')).toBe(200); // decided again, not remembered
  });

  it('checks only Host when hostOnly (the metrics listener)', async () => {
    const { app } = guarded({ hostOnly: true });
    expect((await app.inject({ method: 'POST', url: '/write', headers: { origin: 'https://evil.example' } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/read', headers: { host: 'evil.example' } })).statusCode).toBe(421);
  });
});
