// The conformance table (conformance/cases.ts) against the real `sibyl` binary on free ports:
// through SibylClient over REST and over gRPC in Node, and over REST in headless Chromium
// (the client bundled by esbuild, served from a page of another origin, so CORS is exercised).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SibylClient } from '@sibyl/client';
import { grpcClient } from '@sibyl/client/grpc';
import {
  addSubModel,
  corruptModelBytes,
  identityModel,
  linearClassifierModel,
  makeTempDir,
  removeDir,
  slowModel,
  spawnSibyl,
  writeModelRepository,
  type SpawnedServer,
} from '@sibyl/server/testing';
import type { CaseResult } from './conformance/browser-entry.ts';
import { CONFORMANCE_CASES, type ConformanceContext } from './conformance/cases.ts';
import { IDENTITY_DATATYPES, LABELLED_WEIGHTS, LINEAR, SLOW, identityModelName } from './conformance/models.ts';

const SLOW_CONFIG = 'maxBatchSize: 64\ndynamicBatching:\n  enabled: false\nexecutionsPerInstance: 1\n';

let repo: string;
let server: SpawnedServer;
let page: Server;
let origin: string;
let unreachablePort: number;

/** A port that was free a moment ago and that nobody listens on now. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

beforeAll(async () => {
  repo = await makeTempDir('sibyl-conformance-');
  await writeModelRepository(repo, {
    ...Object.fromEntries(IDENTITY_DATATYPES.map((d) => [identityModelName(d), { versions: { 1: identityModel(d, ['batch', 4]).bytes } }])),
    linear: { versions: { 1: linearClassifierModel(LINEAR).bytes } },
    addsub: { versions: { 1: addSubModel().bytes } },
    corrupt: { versions: { 1: corruptModelBytes() } },
    labelled: {
      versions: { 1: linearClassifierModel({ weights: LABELLED_WEIGHTS[1]!, bias: [0] }).bytes, 2: linearClassifierModel({ weights: LABELLED_WEIGHTS[2]!, bias: [0] }).bytes },
      config: 'versionPolicy:\n  all: true\nlabels:\n  stable: 1\n  canary: 2\n',
    },
    slow_deadline: { versions: { 1: slowModel(SLOW).bytes }, config: SLOW_CONFIG },
    slow_queue: { versions: { 1: slowModel(SLOW).bytes }, config: `${SLOW_CONFIG}maxQueueSize: 1\n` },
  });
  // The page Chromium opens, on an origin of its own: the server must allow it (CORS).
  page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>conformance</title>'));
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  unreachablePort = await closedPort();
  server = await spawnSibyl(['--model-repository', repo, '--http-cors-origins', origin, '--state-store', ':memory:'], { timeoutMs: 90_000 });
}, 120_000);

afterAll(async () => {
  if (server !== undefined) expect(await server.stop()).toBe(0);
  await new Promise((resolve) => page?.close(resolve));
  await removeDir(repo);
});

describe.each([
  ['rest', () => SibylClient.rest(server.url), () => SibylClient.rest(`http://127.0.0.1:${unreachablePort}`)],
  ['grpc', () => grpcClient(server.grpcAddress), () => grpcClient(`127.0.0.1:${unreachablePort}`)],
] as const)('conformance over %s (Node)', (transport, make, makeUnreachable) => {
  let ctx: ConformanceContext;
  beforeAll(() => {
    ctx = { client: make(), transport, unreachable: makeUnreachable() };
  });
  afterAll(() => {
    ctx.client.close();
    ctx.unreachable.close();
  });
  for (const c of CONFORMANCE_CASES.filter((k) => k.only === undefined || k.only === transport)) {
    it(c.name, () => c.run(ctx), 60_000);
  }
});

describe('conformance over REST in headless Chromium', () => {
  let browser: Browser;

  afterAll(async () => {
    await browser?.close();
  });

  it('passes every REST case of the table', async () => {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('./conformance/browser-entry.ts', import.meta.url))],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'chrome120',
      write: false,
      logLevel: 'silent',
    });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const tab = await browser.newPage();
    await tab.goto(origin);
    await tab.addScriptTag({ content: bundle.outputFiles[0]!.text });
    const results = await tab.evaluate(
      ([url, unreachable]) => (globalThis as unknown as { runConformance: (u: string, d: string) => Promise<CaseResult[]> }).runConformance(url, unreachable),
      [server.url, `http://127.0.0.1:${unreachablePort}`] as const,
    );
    expect(await tab.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined'); // a real page, not Node
    expect(results.map((r) => r.name)).toEqual(CONFORMANCE_CASES.filter((k) => k.only !== 'grpc').map((k) => k.name));
    expect(results.filter((r) => !r.ok)).toEqual([]);
  }, 180_000);
});
