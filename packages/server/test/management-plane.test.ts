// The management plane on its own listener (management.port), the metrics listener under
// authentication, and the embedding API's principal (issue 15).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { Command } from 'commander';
import type { CliIo } from '../src/cli/management-action.ts';
import { registerModelsCommand } from '../src/cli/models-command.ts';
import { createSibyl } from '../src/embedded.ts';
import { hashApiKey } from '../src/security/api-keys.ts';
import type { SibylServer } from '../src/server.ts';
import { ScriptedRuntime, createTestServer, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

const KEY = 'sibyl_management-plane-test-key-0000000';
const READER = 'sibyl_management-plane-reader-key-00000';
const INFER = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] });
const json = { 'content-type': 'application/json' };

let repo: string;
beforeAll(async () => {
  repo = await makeTempDir('sibyl-plane-');
  await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } }, other: { versions: { 1: 'add 2' } } });
});
afterAll(() => removeDir(repo));

describe('management.port', () => {
  let open: SibylServer;
  let guarded: SibylServer;
  beforeAll(async () => {
    open = await createTestServer(repo, { runtime: new ScriptedRuntime(), management: { port: 0 } });
    guarded = await createTestServer(repo, {
      runtime: new ScriptedRuntime(),
      management: { port: 0 },
      auth: { apiKeys: { ops: { sha256: hashApiKey(KEY), scopes: ['admin'] } } },
    });
  });
  afterAll(async () => {
    await open?.shutdown();
    await guarded?.shutdown();
  });

  it('management routes are served there and answered 404 on the main port', async () => {
    const main = open.http;
    const management = open.managementHttp!;
    expect(management).toBeDefined();
    for (const url of ['/v2/repository/models', '/v1/endpoints', '/v2/logging', '/v1/batch/jobs', '/v1/models/m/predictions']) {
      const refused = await main.inject({ method: 'GET', url });
      expect(refused.statusCode, url).toBe(404);
      expect(JSON.parse(refused.body)).toMatchObject({ reason: 'ROUTE_NOT_FOUND' });
      expect((await management.inject({ method: 'GET', url })).statusCode, url).not.toBe(404);
    }
    expect((await main.inject({ method: 'POST', url: '/v2/repository/models/m/unload' })).statusCode).toBe(404);
    // Inference stays on the main port only; health on both.
    expect((await main.inject({ method: 'POST', url: '/v2/models/m/infer', headers: json, payload: INFER })).statusCode).toBe(200);
    expect((await management.inject({ method: 'POST', url: '/v2/models/m/infer', headers: json, payload: INFER })).statusCode).toBe(404);
    expect((await management.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode).toBe(200);
  });

  it('with authentication, a caller without credentials gets 401 on either port, learning nothing of the split', async () => {
    expect((await guarded.http.inject({ method: 'GET', url: '/v2/repository/models' })).statusCode).toBe(401);
    expect((await guarded.managementHttp!.inject({ method: 'POST', url: '/v2/models/m/infer', headers: json, payload: INFER })).statusCode).toBe(401);
    const auth = { authorization: `Bearer ${KEY}` };
    expect((await guarded.http.inject({ method: 'GET', url: '/v2/repository/models', headers: auth })).statusCode).toBe(404);
    expect((await guarded.managementHttp!.inject({ method: 'GET', url: '/v2/repository/models', headers: auth })).statusCode).toBe(200);
  });

  it('without management.port everything stays on the main port', async () => {
    const one = await createTestServer(repo, { runtime: new ScriptedRuntime() });
    expect(one.managementHttp).toBeUndefined();
    expect((await one.http.inject({ method: 'GET', url: '/v2/repository/models' })).statusCode).toBe(200);
    await one.shutdown();
  });
});

describe('the CLI against a server with authentication', () => {
  it('sends SIBYL_API_KEY as a bearer credential; without it the server refuses', async () => {
    const server = await createTestServer(repo, { runtime: new ScriptedRuntime(), auth: { apiKeys: { ops: { sha256: hashApiKey(KEY), scopes: ['admin'] } } } });
    await server.http.listen({ host: '127.0.0.1', port: 0 });
    const sibyl = async (env: Record<string, string>, ...args: string[]) => {
      let out = '';
      let err = '';
      let code = -1;
      const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: { SIBYL_URL: server.url, ...env } } as unknown as CliIo;
      const program = new Command('sibyl').exitOverride();
      registerModelsCommand(program, (c) => (code = c), io);
      await program.parseAsync(['node', 'sibyl', ...args]);
      return { code, out, err };
    };
    try {
      const refused = await sibyl({}, 'models', 'list');
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('AUTHENTICATION_REQUIRED');
      const listed = await sibyl({ SIBYL_API_KEY: KEY }, 'models', 'list');
      expect(listed.code).toBe(0);
      expect(listed.out).toContain('other');
      expect(listed.out + listed.err).not.toContain(KEY);
    } finally {
      await server.shutdown();
    }
  });
});

describe('the metrics listener', () => {
  it('needs read when authentication is on', async () => {
    const server = await createTestServer(repo, {
      runtime: new ScriptedRuntime(),
      metrics: { enabled: true, port: 0 },
      auth: { apiKeys: { scraper: { sha256: hashApiKey(READER), scopes: ['read'] } } },
    });
    try {
      const metrics = server.metricsHttp!;
      expect((await metrics.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      const scraped = await metrics.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${READER}` } });
      expect(scraped.statusCode).toBe(200);
      expect(scraped.body).toContain('# HELP');
    } finally {
      await server.shutdown();
    }
  });
});

describe('the embedding API', () => {
  it('checks a principal passed per infer call with the same rule', async () => {
    const sibyl = await createSibyl({ modelRepository: repo, runtime: new ScriptedRuntime(), log: pino({ level: 'silent' }) });
    try {
      const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 1], data: new Float32Array([1]) }] };
      await expect(sibyl.infer('m', request, { principal: { id: 'app-user', scopes: ['infer:m'] } })).resolves.toMatchObject({ model_name: 'm' });
      const refused = sibyl.infer('other', { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 1], data: new Float32Array([1]) }] }, { principal: { id: 'app-user', scopes: ['infer:m'] } });
      await expect(refused).rejects.toBeInstanceOf(SibylError);
      await expect(refused).rejects.toMatchObject({ reason: 'SCOPE_MISSING' });
      // No principal: the application has checked.
      await expect(sibyl.infer('other', { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 1], data: new Float32Array([1]) }] })).resolves.toMatchObject({ model_name: 'other' });
    } finally {
      await sibyl.close();
    }
  });
});
