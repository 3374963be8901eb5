// The conformance table (conformance/cases.ts) over REST in headless Chromium, against the real
// `sibyl` binary: the client bundled by esbuild, served from a page of another origin, so CORS is
// exercised. In the `conformance` project (`npm run test:conformance`): it needs Debian's chromium
// (scripts/conformance-tools.ts), which `npm test` must not.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceTools } from '../../../scripts/conformance-tools.ts';
import type { CaseResult } from './conformance/browser-entry.ts';
import { CONFORMANCE_CASES } from './conformance/cases.ts';
import { startConformanceServer, type ConformanceServer } from './conformance/server.ts';

let started: ConformanceServer;
let page: Server;
let origin: string;

beforeAll(async () => {
  // The page Chromium opens, on an origin of its own: the server must allow it (CORS).
  page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>conformance</title>'));
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  started = await startConformanceServer(['--http-cors-origins', origin]);
}, 120_000);

afterAll(async () => {
  if (started !== undefined) expect(await started.close()).toBe(0);
  await new Promise((resolve) => page?.close(resolve));
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
      executablePath: conformanceTools().chromium,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const tab = await browser.newPage();
    await tab.goto(origin);
    await tab.addScriptTag({ content: bundle.outputFiles[0]!.text });
    const results = await tab.evaluate(
      ([url, unreachable]) => (globalThis as unknown as { runConformance: (u: string, d: string) => Promise<CaseResult[]> }).runConformance(url, unreachable),
      [started.server.url, `http://127.0.0.1:${started.unreachablePort}`] as const,
    );
    expect(await tab.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined'); // a real page, not Node
    expect(results.map((r) => r.name)).toEqual(CONFORMANCE_CASES.filter((k) => k.only !== 'grpc').map((k) => k.name));
    expect(results.filter((r) => !r.ok)).toEqual([]);
  }, 180_000);
});
