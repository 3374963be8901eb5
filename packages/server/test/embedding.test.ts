// Sibyl embedded in a Node application (src/embedded.ts, the package root): infer in process —
// endpoints, dynamic batching and hot swap included — Sibyl's HTTP routes mounted on the
// application's own Fastify instance, and `import { createSibyl } from '@sibyl/server'` from a
// plain Node ESM file outside the workspace.
import { execFile } from 'node:child_process';
import { mkdir, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { SibylError } from '@sibyl/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSibyl, type Sibyl } from '../src/index.ts';
import { ScriptedRuntime, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples/models', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

const request = (x: number[]) => ({ inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [x.length, 1], data: new Float32Array(x) }] });
const ys = (response: { outputs: { data: unknown }[] }) => Array.from(response.outputs[0]!.data as Float32Array);

describe('createSibyl', () => {
  let repo: string;
  let runtime: ScriptedRuntime;
  let sibyl: Sibyl | undefined;

  beforeEach(async () => {
    repo = await makeTempDir('sibyl-embedded-');
    runtime = new ScriptedRuntime();
  });

  afterEach(async () => {
    await sibyl?.close();
    sibyl = undefined;
    await removeDir(repo);
  });

  it('infers in process, through models, versions and endpoints, and batches concurrent requests', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' }, config: 'versionPolicy:\n  all: true\nmaxBatchSize: 8\ndynamicBatching:\n  maxQueueDelayMs: 50\n' } });
    sibyl = await createSibyl({ modelRepository: repo, runtime, config: { endpoints: { front: { target: { model: 'm', version: 1 } } } } });
    expect(ys(await sibyl.infer('m', request([1]), { version: '1' }))).toEqual([2]);
    expect(ys(await sibyl.infer('m', request([1]), { version: '2' }))).toEqual([3]);
    const viaEndpoint = await sibyl.infer('front', request([5]));
    expect(viaEndpoint).toMatchObject({ model_name: 'm', model_version: '1', parameters: { sibyl_endpoint: 'front' } });
    expect(ys(viaEndpoint)).toEqual([6]);

    const before = runtime.executionsOf('m:2');
    const answers = await Promise.all([1, 2, 3, 4].map((x) => sibyl!.infer('m', request([x]), { version: '2' })));
    expect(answers.map(ys)).toEqual([[3], [4], [5], [6]]);
    expect(runtime.executionsOf('m:2') - before).toBe(1); // one batched run for the four requests

    const err = await sibyl.infer('nope', request([1])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SibylError);
    expect((err as SibylError).reason).toBe('MODEL_NOT_FOUND');
  });

  it('swaps a new version in while serving (modelControlMode: poll)', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    sibyl = await createSibyl({ modelRepository: repo, runtime, config: { modelControlMode: 'poll', repositoryPollIntervalMs: 100 } });
    expect(await sibyl.infer('m', request([1]))).toMatchObject({ model_version: '1' });
    const dir = path.join(repo, 'm', '2');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, '.model.onnx.tmp'), 'add 2');
    await rename(path.join(dir, '.model.onnx.tmp'), path.join(dir, 'model.onnx'));
    await vi.waitFor(async () => expect(await sibyl!.infer('m', request([1]))).toMatchObject({ model_version: '2' }), { timeout: 10_000, interval: 20 });
    expect(ys(await sibyl.infer('m', request([1])))).toEqual([3]);
  });

  it("mounts Sibyl's routes on the application's own Fastify instance, beside its routes", async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    sibyl = await createSibyl({ modelRepository: repo, runtime });
    const app = Fastify();
    app.get('/hello', async () => ({ hello: 'world' }));
    await app.register(sibyl.fastifyPlugin);
    try {
      expect((await app.inject({ method: 'GET', url: '/hello' })).json()).toEqual({ hello: 'world' });
      const res = await app.inject({
        method: 'POST',
        url: '/v2/models/m/infer',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [41] }] }),
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ model_name: 'm', model_version: '1', outputs: [{ name: 'y', data: [42] }] });
      expect((await app.inject({ method: 'GET', url: '/v2/health/ready' })).json()).toEqual({ ready: true });
      // Sibyl's error format inside the plugin.
      const missing = await app.inject({ method: 'GET', url: '/v2/models/nope' });
      expect([missing.statusCode, missing.json().reason]).toEqual([404, 'MODEL_NOT_FOUND']);
    } finally {
      await app.close();
    }
  });

  it('refuses requests once closed', async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    sibyl = await createSibyl({ modelRepository: repo, runtime });
    await sibyl.close();
    await expect(sibyl.infer('m', request([1]))).rejects.toMatchObject({ reason: 'SERVER_DRAINING', message: expect.stringMatching(/closed/) });
  });

  it("validates the application's settings with the server's schema, naming the field", async () => {
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    const err = await createSibyl({ modelRepository: repo, runtime, config: { requestTimeoutMs: -5, http: { bodyLimitBytes: 'big' } } as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/createSibyl options\.config/);
    expect((err as Error).message).toMatch(/requestTimeoutMs/);
    expect((err as Error).message).toMatch(/bodyLimitBytes/);
  });
});

describe("import { createSibyl } from '@sibyl/server'", () => {
  it('works from a plain Node ESM file outside the workspace (node, no flags)', async () => {
    const dir = await makeTempDir('sibyl-plain-node-');
    const link = path.join(dir, 'node_modules', '@sibyl', 'server');
    try {
      await mkdir(path.join(dir, 'node_modules', '@sibyl'), { recursive: true });
      await symlink(PACKAGE, link, 'dir');
      await writeFile(
        path.join(dir, 'app.mjs'),
        [
          "import { createSibyl, SibylError } from '@sibyl/server';",
          "const sibyl = await createSibyl({ modelRepository: process.argv[2], config: { modelControlMode: 'explicit', loadModels: ['iris'] } });",
          "const r = await sibyl.infer('iris', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: new Float32Array([5.1, 3.4, 1.5, 0.2]) }] });",
          "const p = Array.from(r.outputs.find((o) => o.name === 'probabilities').data);",
          'let refused;',
          "try { await sibyl.infer('nope', { inputs: [] }); } catch (e) { refused = e instanceof SibylError ? e.reason : String(e); }",
          'await sibyl.close();',
          'console.log(JSON.stringify({ model: r.model_name, version: r.model_version, p, refused }));',
        ].join('\n'),
      );
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(dir, 'app.mjs'), EXAMPLES], { cwd: dir, env: { PATH: process.env.PATH }, timeout: 60_000 });
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { model: string; version: string; p: number[]; refused: string };
      expect(out).toMatchObject({ model: 'iris', version: '1', refused: 'MODEL_NOT_FOUND' });
      expect(out.p.indexOf(Math.max(...out.p))).toBe(0); // setosa
      expect(out.p[0]).toBeCloseTo(0.99999, 4);
    } finally {
      await unlink(link).catch(() => undefined); // the link first: nothing may reach the package itself
      await removeDir(dir);
    }
  }, 90_000);
});

describe('examples/embedded', () => {
  it('runs: predicts in process, through its own route and through the mounted V2 route', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'examples/embedded/app.ts', '--check'], { cwd: ROOT, timeout: 60_000 });
    expect(stdout).toContain("in process: { species: 'setosa'");
    expect(stdout).toContain("GET /species: { species: 'virginica'");
    expect(stdout).toContain("POST /v2/models/iris/infer: 200 [ 'probabilities' ]");
  }, 90_000);
});
