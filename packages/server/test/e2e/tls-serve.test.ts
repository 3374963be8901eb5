// `sibyl serve` with TLS from sibyl.yaml (paths relative to the file's folder) and from flags:
// the real binary, spoken to over HTTPS with the test-only CA (test/fixtures/tls).
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityModel, makeTempDir, removeDir, spawnSibyl, writeModelRepository } from '../../src/testing/index.ts';

const F = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));

function readyOver(url: string, ca: Buffer): Promise<{ status: number; cn: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${url}/v2/health/ready`, { ca, agent: false }, (res) => {
        const cn = String((res.socket as TLSSocket).getPeerCertificate().subject.CN);
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, cn }));
      })
      .on('error', reject);
  });
}

let dir: string;
let ca: Buffer;

beforeAll(async () => {
  dir = await makeTempDir('sibyl-tls-serve-');
  ca = await readFile(F + 'test-ca.pem');
  await writeModelRepository(join(dir, 'models'), { echo: { versions: { 1: identityModel('FP32', ['batch', 2]).bytes } } });
  await mkdir(join(dir, 'certs'));
  await copyFile(F + 'test-server.pem', join(dir, 'certs', 'server.pem'));
  await copyFile(F + 'test-server.key', join(dir, 'certs', 'server.key'));
}, 60_000);

afterAll(async () => {
  await removeDir(dir);
});

describe('sibyl serve with TLS', () => {
  it("takes the files of sibyl.yaml relative to the file's folder and serves HTTPS", async () => {
    await writeFile(join(dir, 'sibyl.yaml'), 'modelRepository: models\ntls:\n  certFile: certs/server.pem\n  keyFile: certs/server.key\n');
    const server = await spawnSibyl(['--config', join(dir, 'sibyl.yaml')]);
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(await readyOver(server.url, ca)).toEqual({ status: 200, cn: 'localhost' });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);

  it('refuses to start when a file named by a flag is missing, naming the field', async () => {
    const refused = await spawnSibyl(['--model-repository', join(dir, 'models'), '--tls-cert-file', join(dir, 'certs', 'absent.pem'), '--tls-key-file', join(dir, 'certs', 'server.key')]).then(
      async (server) => {
        await server.stop();
        return 'started';
      },
      (err: Error) => err.message,
    );
    expect(refused).toMatch(/exited with code [1-9]/);
    expect(refused).toMatch(/tls\.certFile: .*absent\.pem cannot be read \(ENOENT\)/);
  }, 60_000);
});
