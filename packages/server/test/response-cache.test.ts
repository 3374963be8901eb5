// The response cache through the HTTP API, in process, with the scripted runtime: repeated
// requests of a model that opts in are answered without running it, and never with an answer of
// a version that no longer serves.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { ScriptedRuntime, createTestServer, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

let repo: string;
let runtime: ScriptedRuntime;
let server: SibylServer | undefined;

beforeEach(async () => {
  repo = await makeTempDir('sibyl-cache-');
  runtime = new ScriptedRuntime();
});
afterEach(async () => {
  await server?.shutdown();
  server = undefined;
  await removeDir(repo);
});

async function infer(x: number, model = 'm'): Promise<{ version: string; y: number; cache: unknown }> {
  const res = await server!.http.inject({ method: 'POST', url: `/v2/models/${model}/infer`, payload: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [x] }] }) });
  const body = res.json() as { model_version: string; outputs: { data: number[] }[]; parameters?: { sibyl_cache?: string } };
  return { version: body.model_version, y: body.outputs[0]!.data[0]!, cache: body.parameters?.sibyl_cache };
}

const stats = async (model: string): Promise<{ cache_hit: { count: number }; cache_miss: { count: number } }> =>
  ((await server!.http.inject({ method: 'GET', url: `/v2/models/${model}/stats` })).json() as { model_stats: { inference_stats: { cache_hit: { count: number }; cache_miss: { count: number } } }[] }).model_stats[0]!.inference_stats;

describe('response cache', () => {
  it('answers repeated requests from the cache, only for models that opt in', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' }, config: 'responseCache: { ttlMs: 60000 }\n' }, plain: { versions: { 1: 'add 1' } } });
    server = await createTestServer(repo, { runtime });
    expect(await infer(5)).toEqual({ version: '1', y: 6, cache: 'miss' });
    expect(await infer(5)).toEqual({ version: '1', y: 6, cache: 'hit' });
    expect(await infer(7)).toEqual({ version: '1', y: 8, cache: 'miss' });
    expect(runtime.executionsOf('m:1')).toBe(2);
    expect(await stats('m')).toMatchObject({ cache_hit: { count: 1 }, cache_miss: { count: 2 } });
    await infer(5, 'plain');
    expect(await infer(5, 'plain')).toMatchObject({ cache: undefined });
    expect(runtime.executionsOf('plain:1')).toBe(2);
  });

  it('never serves an answer of a version that no longer serves', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' }, config: 'responseCache: {}\n' } });
    server = await createTestServer(repo, { runtime, modelControlMode: 'poll', repositoryPollIntervalMs: 86_400_000 });
    expect(await infer(5)).toMatchObject({ version: '1', y: 6 });
    expect(await infer(5)).toMatchObject({ cache: 'hit' });
    await mkdir(path.join(repo, 'm', '2'));
    await writeFile(path.join(repo, 'm', '2', 'model.onnx'), 'add 2');
    await server.models.poll();
    await server.models.whenSettled();
    expect(await infer(5)).toEqual({ version: '2', y: 7, cache: 'miss' });
    // The same version reloaded with new files is a new generation too.
    await writeFile(path.join(repo, 'm', '2', 'model.onnx'), 'add 3');
    await server.models.poll();
    await server.models.whenSettled();
    expect(await infer(5)).toEqual({ version: '2', y: 8, cache: 'miss' });
  });
});
