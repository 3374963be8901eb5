// The conformance table (conformance/cases.ts) against the real `sibyl` binary on free ports,
// through SibylClient over REST and over gRPC in Node. The same table in headless Chromium is
// browser.conformance.test.ts (the `conformance` project: it needs Debian's chromium).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SibylClient } from '@sibyl/client';
import { grpcClient } from '@sibyl/client/grpc';
import { CONFORMANCE_CASES, type ConformanceContext } from './conformance/cases.ts';
import { startConformanceServer, type ConformanceServer } from './conformance/server.ts';

let started: ConformanceServer;

beforeAll(async () => {
  started = await startConformanceServer();
}, 120_000);

afterAll(async () => {
  if (started !== undefined) expect(await started.close()).toBe(0);
});

describe.each([
  ['rest', () => SibylClient.rest(started.server.url), () => SibylClient.rest(`http://127.0.0.1:${started.unreachablePort}`)],
  ['grpc', () => grpcClient(started.server.grpcAddress), () => grpcClient(`127.0.0.1:${started.unreachablePort}`)],
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
