// `sibyl bench` is @sibyl/bench's command reached through the server's CLI: the real `sibyl`
// binary lists it, prints its full help under its own name, and runs it with its exit codes
// (0 run completed, 1 unreachable, 2 usage). The command itself is tested in packages/bench.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCH_DESCRIPTION } from '@sibyl/bench/command';

const BIN = fileURLToPath(new URL('../bin/sibyl.js', import.meta.url));

function sibyl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const METADATA = JSON.stringify({ name: 'm', platform: 'fake', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] });
const ANSWER = JSON.stringify({ model_name: 'm', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: [1] }] });

/** The least of an Open Inference Protocol server: model m's metadata, and one answer to every infer. */
async function startV2Server(): Promise<{ url: string; infers: () => number; close: () => Promise<void> }> {
  let infers = 0;
  const server = http.createServer((req, res) => {
    req.resume().on('end', () => {
      if (req.method === 'GET' && req.url === '/v2/models/m') return void res.writeHead(200, { 'content-type': 'application/json' }).end(METADATA);
      if (req.method === 'POST' && req.url === '/v2/models/m/infer') {
        infers++;
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    infers: () => infers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).then(() => void server.closeAllConnections()),
  };
}

describe('sibyl bench (the server CLI delegates to @sibyl/bench)', () => {
  let server: Awaited<ReturnType<typeof startV2Server>>;
  beforeAll(async () => {
    server = await startV2Server();
  });
  afterAll(async () => {
    await server.close();
  });

  it('is listed by sibyl --help with the bench description', async () => {
    const { code, stdout } = await sibyl(['--help']);
    expect(code).toBe(0);
    expect(stdout.replace(/\s+/g, ' ')).toContain(`bench [options] ${BENCH_DESCRIPTION}`);
  });

  it('prints the full help of the bench under its own name, also through sibyl help bench', async () => {
    const help = await sibyl(['bench', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: sibyl bench \[options\]\n\nLoad-test a model/);
    for (const flag of ['--url <url>', '--concurrency <n>', '--rate <requests-per-second>', '--binary', '--workers <k>', '--chart <file>']) expect(help.stdout).toContain(flag);
    expect(help.stdout).toContain('\nExamples:\n  sibyl bench --model resnet18 --binary --concurrency 8\n');
    const viaHelp = await sibyl(['help', 'bench']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(help.stdout);
  });

  it('runs against a V2 server and prints the summary (exit 0)', async () => {
    const { code, stdout, stderr } = await sibyl(['bench', '--url', server.url, '--model', 'm', '-c', '2', '--warmup-seconds', '0', '--duration-seconds', '0.5']);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/^sibyl bench: 16 request bodies ready; 2 connections, 0 s warm-up \+ 0\.5 s$/m);
    expect(stdout).toContain(`sibyl bench: ${server.url}  model m`);
    expect(stdout).toMatch(/requests\/s\s+[\d,.]+/);
    expect(server.infers()).toBeGreaterThan(0);
  });

  it('exits 1 when the server is unreachable and 2 for usage errors', async () => {
    const gone = await startV2Server();
    await gone.close();
    const unreachable = await sibyl(['bench', '--url', gone.url, '--model', 'm']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^sibyl bench: cannot reach http:\/\/127\.0\.0\.1:\d+: GET .* failed \(ECONNREFUSED/m);
    const usage = await sibyl(['bench', '--url', server.url, '--model', 'm', '--concurrency', 'many']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--concurrency is 'many'; expected an integer/);
    expect(usage.stderr).toContain('(sibyl bench --help lists the flags)');
  });
});
