// Browser-borne attacks (issue 15 item 8) replayed by a real browser, headless Chromium, against
// the real `sibyl` binary on 127.0.0.1: what the browser itself puts on the wire (Origin,
// Sec-Fetch-Site, Host) is what the server's browser guard decides on. A foreign page's no-cors
// text/plain POST and its form post change nothing; a page of a DNS name rebound to 127.0.0.1
// reads nothing; a page of an allowed origin still calls and reads. In the `conformance` project:
// it needs Debian's chromium (scripts/conformance-tools.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { identityModel, makeTempDir, removeDir, spawnSibyl, writeModelRepository, type SpawnedServer } from '@sibyl/server/testing';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceTools } from '../../../scripts/conformance-tools.ts';

const INFER = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });

let repo: string;
let sibyl: SpawnedServer;
let browser: Browser;
const pages: Server[] = [];

/** A page server on 127.0.0.1 (an origin of its own); resolves with its origin. */
async function pageServer(): Promise<string> {
  const page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>page</title><body></body>'));
  pages.push(page);
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
}

let foreign: string;
let allowed: string;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-browser-attacks-');
  await writeModelRepository(repo, { m: { versions: { 1: identityModel('FP32', ['batch', 4]).bytes } } });
  foreign = await pageServer();
  allowed = await pageServer();
  sibyl = await spawnSibyl(['--model-repository', repo, '--state-store', ':memory:', '--model-control-mode', 'explicit', '--load-model', '*', '--http-cors-origins', allowed], { timeoutMs: 90_000 });
  browser = await chromium.launch({
    executablePath: conformanceTools().chromium,
    // evil.example resolves to 127.0.0.1: the rebinding's second answer, without a DNS server.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP evil.example 127.0.0.1'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (sibyl !== undefined) expect(await sibyl.stop()).toBe(0);
  for (const page of pages) await new Promise((resolve) => page.close(resolve));
  await removeDir(repo);
});

const logLevel = async () => ((await (await fetch(`${sibyl.url}/v2/logging`)).json()) as { level: string }).level;
const modelReady = async () => (await fetch(`${sibyl.url}/v2/models/m/ready`)).status;

describe('a real browser against the browser guard', () => {
  it('a foreign page cannot change the log level with a no-cors text/plain POST', async () => {
    const tab = await browser.newPage();
    await tab.goto(foreign);
    const type = await tab.evaluate(async (url) => (await fetch(`${url}/v2/logging`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"level":"silent"}' })).type, sibyl.url);
    expect(type).toBe('opaque'); // sent, answer unreadable: the browser raised no error, the server refused
    expect(await logLevel()).toBe('info');
    await sibyl.waitForLog((l) => l.reason === 'ORIGIN_REFUSED' && l.url === '/v2/logging', 'refusing the cross-site POST /v2/logging', 10_000);
    await tab.close();
  });

  it('a foreign page cannot unload a model with a form post', async () => {
    const tab = await browser.newPage();
    await tab.goto(foreign);
    // The page's own content (still of the foreign origin): a form that posts to the server.
    await tab.setContent(`<form method="POST" enctype="text/plain" action="${sibyl.url}/v2/repository/models/m/unload"><button>go</button></form>`);
    await Promise.all([tab.waitForURL(`${sibyl.url}/v2/repository/models/m/unload`), tab.click('button')]);
    expect(await tab.textContent('body')).toContain('"reason":"ORIGIN_REFUSED"');
    expect(await modelReady()).toBe(200);
    await tab.close();
  });

  it('a page of a name rebound to 127.0.0.1 reads nothing (421 HOST_REFUSED)', async () => {
    const tab = await browser.newPage();
    const port = new URL(sibyl.url).port;
    // The health probes answer any Host, so the page loads from the server's own port: same origin from here on.
    await tab.goto(`http://evil.example:${port}/v2/health/live`);
    const read = await tab.evaluate(async () => {
      const res = await fetch('/v2/repository/models');
      return { status: res.status, body: await res.text() };
    });
    expect(read.status).toBe(421);
    expect(JSON.parse(read.body)).toMatchObject({ reason: 'HOST_REFUSED' });
    expect(read.body).not.toContain('"m"');
    await tab.close();
  });

  it('a page of an allowed origin runs a model and reads the answer', async () => {
    const tab = await browser.newPage();
    await tab.goto(allowed);
    const answer = await tab.evaluate(
      async ([url, body]) => {
        const res = await fetch(`${url}/v2/models/m/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return { status: res.status, json: (await res.json()) as { outputs: { data: number[] }[] } };
      },
      [sibyl.url, INFER] as const,
    );
    expect(answer.status).toBe(200);
    expect(answer.json.outputs[0]!.data).toEqual([1, 2, 3, 4]);
    await tab.close();
  });
});
