import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { serverConfigDefaults } from '../config/server-config.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { makeTempDir, removeDir, writeModelRepository } from '../testing/onnx/model-repository.ts';
import { ScriptedRuntime } from '../testing/scripted-runtime.ts';
import { createSibylCore, type SibylCore } from './sibyl-core.ts';

let repo: string | undefined;
let core: SibylCore | undefined;

afterEach(async () => {
  if (core !== undefined) {
    await core.release(0);
    await core.closeStores();
  }
  core = undefined;
  if (repo !== undefined) await removeDir(repo);
  repo = undefined;
});

async function build(options: { predictionStore?: false; observability?: false } = {}): Promise<{ core: SibylCore; clock: ManualClock }> {
  repo = await makeTempDir('sibyl-core-');
  await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
  const clock = new ManualClock(5000);
  const config = {
    ...serverConfigDefaults(repo),
    stateStore: ':memory:',
    predictionStore: { ...serverConfigDefaults(repo).predictionStore, path: ':memory:' },
    endpoints: { front: { target: { model: 'm' } } } as never,
  };
  core = await createSibylCore(config, { log: pino({ level: 'silent' }), clock, runtime: new ScriptedRuntime(), env: {}, ...options });
  await core.start();
  return { core, clock };
}

describe('createSibylCore', () => {
  it('builds a core whose one infer() answers models and endpoints', async () => {
    const { core } = await build();
    const request = () => ({ inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 1], data: new Float32Array([1]) }] });
    expect(await core.infer('m', {}, request(), core.newContext('embedded'))).toMatchObject({ model_name: 'm', model_version: '1' });
    expect(await core.infer('front', {}, request(), core.newContext('embedded'))).toMatchObject({ model_name: 'm', parameters: { sibyl_endpoint: 'front' } });
    expect(core.targetOf('front', {})).toEqual({ model: 'm', selector: { version: undefined, label: undefined } });
    expect(core.pending).toBe(0);
    expect(core.batch).toBeDefined();
    expect(core.observability.metrics).toBeDefined();
  });

  it('leaves out what the adapters turn off: no prediction store means no batch jobs; no observers', async () => {
    const { core } = await build({ predictionStore: false, observability: false });
    expect([core.batch, core.storedPredictions, core.observability.metrics, core.observability.predictions]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('makes request contexts on its clock: arrival now (or given), an id generated (or given)', async () => {
    const { core, clock } = await build();
    const a = core.newContext('grpc');
    expect(a).toMatchObject({ entry: 'grpc', arrivalMs: 5000 });
    expect(a.requestId).toMatch(/^[0-9a-f-]{36}$/);
    clock.advance(7);
    expect(core.newContext('http', { requestId: 'r1', arrivalMs: 4990 })).toMatchObject({ entry: 'http', requestId: 'r1', arrivalMs: 4990 });
    expect(core.newContext('http').arrivalMs).toBe(5007);
    expect(core.newContext('http').requestId).not.toBe(a.requestId);
  });
});
