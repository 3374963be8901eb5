// Secure by default (issue 15): on a loopback host nothing changes; on any other host the server
// refuses to start without authentication, starts with it, and starts without it only when told
// (--allow-unauthenticated / SIBYL_ALLOW_UNAUTHENTICATED), saying so loudly. In process, and with
// the real `sibyl serve`.
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/validate.ts';
import { hashApiKey } from '../src/security/api-keys.ts';
import { ScriptedRuntime, createTestServer, makeTempDir, removeDir, spawnSibyl, writeModelRepository } from '../src/testing/index.ts';

const BIN = fileURLToPath(new URL('../bin/sibyl.js', import.meta.url));
const KEY = 'sibyl_secure-by-default-test-key-000000';
const SECRET = 'hs256-secret-for-the-secure-default-tests';

let repo: string;
beforeAll(async () => {
  repo = await makeTempDir('sibyl-secure-');
  await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
});
afterAll(() => removeDir(repo));

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('in process', () => {
  it('a loopback host without authentication starts, as always, and warns nothing', async () => {
    const { log, lines } = capture();
    const server = await createTestServer(repo, { runtime: new ScriptedRuntime(), log });
    expect(server.access.authenticator.enabled).toBe(false);
    expect((await server.http.inject({ method: 'GET', url: '/v2/repository/models' })).statusCode).toBe(200);
    await server.shutdown();
    expect(lines.filter((l) => l.security === 'unauthenticated')).toEqual([]);
  });

  it('0.0.0.0 without authentication refuses to start, saying why and what to do', async () => {
    const made = createTestServer(repo, { runtime: new ScriptedRuntime(), host: '0.0.0.0' });
    await expect(made).rejects.toBeInstanceOf(ConfigError);
    await expect(made).rejects.toThrow(/not a loopback address.*--allow-unauthenticated/s);
    await expect(createTestServer(repo, { runtime: new ScriptedRuntime(), host: '10.1.2.3' })).rejects.toThrow(/no authentication is configured/);
  });

  it('0.0.0.0 with authentication starts, and requires it', async () => {
    const server = await createTestServer(repo, { runtime: new ScriptedRuntime(), host: '0.0.0.0', auth: { apiKeys: { ops: { sha256: hashApiKey(KEY), scopes: ['admin'] } } } });
    expect((await server.http.inject({ method: 'GET', url: '/v2/repository/models' })).statusCode).toBe(401);
    expect((await server.http.inject({ method: 'GET', url: '/v2/repository/models', headers: { authorization: `Bearer ${KEY}` } })).statusCode).toBe(200);
    await server.shutdown();
  });

  it('0.0.0.0 with allowUnauthenticated starts, open, with a loud warning', async () => {
    const { log, lines } = capture();
    const server = await createTestServer(repo, { runtime: new ScriptedRuntime(), host: '0.0.0.0', allowUnauthenticated: true, log });
    expect((await server.http.inject({ method: 'GET', url: '/v2/repository/models' })).statusCode).toBe(200);
    await server.shutdown();
    const warnings = lines.filter((l) => l.security === 'unauthenticated');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, host: '0.0.0.0' });
    expect(String(warnings[0]!.msg)).toMatch(/WITHOUT AUTHENTICATION/);
  });
});

describe('sibyl serve', () => {
  it('--host 0.0.0.0 without authentication exits 2 with the reason on stderr', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--model-repository', repo, '--host', '0.0.0.0', '--http-port', '0', '--grpc-port', '0', '--state-store', ':memory:'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/host is 0\.0\.0\.0, which is not a loopback address/);
  }, 60_000);

  it('--allow-unauthenticated starts and warns', async () => {
    const server = await spawnSibyl(['--model-repository', repo, '--host', '0.0.0.0', '--allow-unauthenticated', '--state-store', ':memory:']);
    try {
      const warning = await server.waitForLog((l) => l.security === 'unauthenticated', 'warning of no authentication');
      expect(warning.level).toBe(40);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);

  it('SIBYL_AUTH_JWT_SECRET on 0.0.0.0 starts, and requires a token', async () => {
    const server = await spawnSibyl(['--model-repository', repo, '--host', '0.0.0.0', '--state-store', ':memory:'], { env: { SIBYL_AUTH_JWT_SECRET: SECRET } });
    try {
      const port = new URL(server.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/v2/health/live`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/v2/repository/models`)).status).toBe(401);
      expect(server.logs.some((l) => l.security === 'unauthenticated')).toBe(false);
      expect(server.output.stdout).not.toContain(SECRET);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);
});
