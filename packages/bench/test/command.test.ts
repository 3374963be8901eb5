// The bench command as users run it: the real `sibyl-bench` binary against an in-process V2
// server. Exit codes (0 run completed, 1 unreachable / metadata, 2 usage), the summary, plain
// progress lines when stderr is not a terminal, and the --output / --chart files. Flag parsing is
// tested directly. (`sibyl bench`, the same command in the server's CLI: server/test/cli-bench.test.ts.)
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchOptionsFromFlags, parseHeader, parseShape } from '../src/args.ts';
import type { BenchFlags } from '../src/args.ts';
import type { BenchResult } from '../src/index.ts';
import { startFakeV2Server } from './fake-v2-server.ts';
import type { FakeV2Server } from './fake-v2-server.ts';
import { checkXml } from './xml.ts';

const BIN = fileURLToPath(new URL('../bin/sibyl-bench.js', import.meta.url));

function sibylBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
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

describe('sibyl-bench (the binary)', () => {
  let server: FakeV2Server;
  let dir: string;
  beforeAll(async () => {
    server = await startFakeV2Server();
    dir = await mkdtemp(path.join(tmpdir(), 'sibyl-bench-cli-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs, prints the summary, plain progress lines, and writes results and chart (exit 0)', async () => {
    const output = path.join(dir, 'results.json');
    const chart = path.join(dir, 'latency.svg');
    const { code, stdout, stderr } = await sibylBench(['--url', server.url, '--model', 'm', '-c', '2', '--warmup-seconds', '0', '--duration-seconds', '1.2', '--output', output, '--chart', chart]);
    expect(stderr).not.toContain('\u001b['); // not a terminal: no ANSI
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/^\[\s+\d+s measure\]\s+[\d,]+ req\/s\s+p99\s+[\d.]+ ms\s+in flight\s+\d+\s+errors 0$/m);
    for (const heading of ['Throughput', 'Latency of 2xx responses', 'Counts']) expect(stdout).toContain(heading);
    expect(stdout).toMatch(/requests\/s\s+[\d,.]+/);
    expect(stdout).toMatch(/p50\s+p90\s+p95\s+p99\s+p99\.9\s+max\s+mean/);
    const result = JSON.parse(await readFile(output, 'utf8')) as BenchResult;
    expect(result.config).toMatchObject({ url: server.url, model: 'm', mode: { kind: 'closed', concurrency: 2 }, durationSeconds: 1.2 });
    expect(result.timeline.map((t) => t.seconds)).toEqual([1, expect.closeTo(0.2, 6)]);
    expect(result.counts.ok).toBe(result.counts.completed);
    const { problems } = checkXml(await readFile(chart, 'utf8'));
    expect(problems).toEqual([]);
  });

  it('exits 1 with a clear message when the server is unreachable', async () => {
    const gone = await startFakeV2Server();
    await gone.close();
    const { code, stderr, stdout } = await sibylBench(['--url', gone.url, '--model', 'm']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^sibyl bench: cannot reach http:\/\/127\.0\.0\.1:\d+: GET .* failed \(ECONNREFUSED/m);
    expect(stdout).toBe('');
  });

  it('prints its help under its own name (exit 0)', async () => {
    const { code, stdout } = await sibylBench(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: sibyl-bench \[options\]\n\nLoad-test a model/);
    expect(stdout).toContain('\nExamples:\n  sibyl-bench --model resnet18 --binary --concurrency 8\n');
  });

  it('exits 2 for usage errors', async () => {
    const missing = await sibylBench(['--url', server.url]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--model is required/);
    const bad = await sibylBench(['--url', server.url, '--model', 'm', '--concurrency', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--concurrency is 'many'; expected an integer/);
    expect(bad.stderr).toContain('(sibyl-bench --help lists the flags)');
    const shape = await sibylBench(['--url', server.url, '--model', 'm', '--shape', 'nope:1,4']);
    expect(shape.code).toBe(2);
    expect(shape.stderr).toMatch(/--shape names input 'nope', but the model's inputs are 'x'/);
  });
});

describe('flags', () => {
  const flags = (extra: Partial<BenchFlags>): BenchFlags => ({ url: 'http://h:1', model: 'm', shape: [], header: [], ...extra });

  it('maps flags to runBench options', () => {
    const { options, cli } = benchOptionsFromFlags(
      flags({ rate: '250.5', arrival: 'constant', maxInFlight: '8', shape: ['a:1,2', 'b:'], header: ['Authorization: Bearer t:x'], binary: true, output: 'r.json', quiet: true }),
    );
    expect(options).toMatchObject({ url: 'http://h:1', model: 'm', ratePerSecond: 250.5, arrival: 'constant', maxInFlight: 8, shapes: { a: [1, 2], b: [] }, headers: { Authorization: 'Bearer t:x' }, binary: true });
    expect(options.concurrency).toBeUndefined();
    expect(cli).toEqual({ output: 'r.json', chart: undefined, quiet: true });
  });

  it('parses shapes and headers strictly', () => {
    expect(parseShape('input:1, 3,224,224')).toEqual(['input', [1, 3, 224, 224]]);
    expect(parseShape('ns:scoped:4')).toEqual(['ns:scoped', [4]]);
    expect(() => parseShape('input')).toThrow(/not name:dims/);
    expect(() => parseShape('input:1,-1')).toThrow(/non-negative integers/);
    expect(() => parseShape('input:1.5')).toThrow(/non-negative integers/);
    expect(parseHeader('X-A:  b ')).toEqual(['X-A', 'b']);
    expect(() => parseHeader('nocolon')).toThrow(/not "name: value"/);
    expect(() => benchOptionsFromFlags(flags({ arrival: 'burst' }))).toThrow(/--arrival is 'burst'; expected constant or poisson/);
    expect(() => benchOptionsFromFlags(flags({ durationSeconds: '' }))).toThrow(/--duration-seconds is ''; expected a number/);
    expect(() => benchOptionsFromFlags(flags({ shape: ['a:1', 'a:2'] }))).toThrow(/gives input 'a' twice/);
  });
});
