// curl against Sibyl's TLS listener with the test-only certificates (test/fixtures/tls): the
// stock command-line client, verifying the server with --cacert and presenting a client
// certificate for mTLS. A conformance test: it needs curl on the machine (Debian's curl).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { createTestServer, identityModel, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

const run = promisify(execFile);
const F = fileURLToPath(new URL('./fixtures/tls/', import.meta.url));
const INFER_BODY = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });

/** curl's exit status (0: it got an answer). */
const curlStatus = (args: string[]): Promise<number> => run('curl', ['-sS', '-o', '/dev/null', ...args]).then(() => 0, (err: { code?: number }) => err.code ?? -1);

let repo: string;
let server: SibylServer;
let base: string;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-tls-curl-');
  await writeModelRepository(repo, { echo: { versions: { 1: identityModel('FP32', ['batch', 2]).bytes } } });
  server = await createTestServer(repo, {
    tls: { certFile: F + 'test-server.pem', keyFile: F + 'test-server.key', caFile: F + 'test-ca.pem', clientCertificates: 'require', reloadIntervalMs: 5000, clientPrincipals: {} },
  });
  await server.http.listen({ host: '127.0.0.1', port: 0 });
  base = server.url;
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

describe('curl over TLS', () => {
  it('infers with --cacert and a client certificate', async () => {
    const { stdout } = await run('curl', ['-sS', '--cacert', F + 'test-ca.pem', '--cert', F + 'test-client.pem', '--key', F + 'test-client.key', '-H', 'content-type: application/json', '-d', INFER_BODY, `${base}/v2/models/echo/infer`]);
    expect(JSON.parse(stdout)).toMatchObject({ model_name: 'echo', outputs: [{ data: [1, 2] }] });
  });

  it('refuses to trust the server without the CA (exit 60), and is refused without a client certificate', async () => {
    expect(await curlStatus(['--cert', F + 'test-client.pem', '--key', F + 'test-client.key', `${base}/v2/health/ready`])).toBe(60);
    const status = await curlStatus(['--cacert', F + 'test-ca.pem', `${base}/v2/health/ready`]);
    expect(status).not.toBe(0);
  });
});
