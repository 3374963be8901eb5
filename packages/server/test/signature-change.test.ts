// M5 with real ONNX files and onnxruntime: a new version whose input changes datatype does not
// take the default traffic of the version it would break (poll mode); requests that name it
// reach it.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { createTestServer, identityModel, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

let repo: string;
let server: SibylServer | undefined;

beforeEach(async () => {
  repo = await makeTempDir('sibyl-signature-');
});

afterEach(async () => {
  await server?.shutdown();
  server = undefined;
  await removeDir(repo);
});

async function infer(url: string, datatype: 'FP32' | 'INT64'): Promise<{ status: number; version?: string; reason?: string }> {
  const res = await server!.http.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ inputs: [{ name: 'input', datatype, shape: [1, 4], data: [1, 2, 3, 4] }] }),
  });
  const body = res.json() as { model_version?: string; reason?: string };
  return { status: res.statusCode, version: body.model_version, reason: body.reason };
}

it('an INT64 version of an FP32 model loads but the default traffic stays on the FP32 one', async () => {
  await writeModelRepository(repo, { m: { versions: { 1: identityModel('FP32', ['batch', 4]).bytes } } });
  server = await createTestServer(repo, { modelControlMode: 'poll', repositoryPollIntervalMs: 86_400_000 });
  await writeModelRepository(repo, { m: { versions: { 2: identityModel('INT64', ['batch', 4]).bytes } } });
  await server.models.poll();
  await server.models.whenSettled();

  expect(await infer('/v2/models/m/infer', 'FP32')).toEqual({ status: 200, version: '1' });
  expect(await infer('/v2/models/m/versions/2/infer', 'INT64')).toEqual({ status: 200, version: '2' });
  expect(server.models.index().find((r) => r.version === '2')).toEqual({
    name: 'm',
    version: '2',
    state: 'READY',
    reason:
      "not routed by default: signature incompatible with version 1: input 'input' datatype FP32 → INT64, output 'output' datatype FP32 → INT64 (requests for version 2 reach it; to route the default traffic to it, set acceptSignature: [2] in its config.yaml or move the stable label to it)",
  });
}, 60_000);
