// Issue 15, item 7: the attacks on model control, endpoints, state and 404s, replayed with
// authentication off on loopback. Path and shadowing rules refuse them whatever the scopes; what
// depends on the admin scope (widening the prediction log, replacesModel) is shown with a
// principal that lacks it.
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { createTestServer, linearClassifierModel, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';

let repo: string;
let server: SibylServer;
const reader = { id: 'reader', scopes: ['read', 'infer:*'] };
const admin = { id: 'root', scopes: ['admin'] };
const DRIFT = { baselineRows: 400, windowRows: 400, psiThreshold: 0.2, ksThreshold: 0.2 };

async function call(method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown): Promise<{ status: number; json: { error: string; reason: string } & Record<string, unknown>; text: string }> {
  const res = await server.http.inject({ method, url, ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  return { status: res.statusCode, json: res.json(), text: res.body };
}

const input = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] };
const logitsOf = async (name: string): Promise<number[]> => {
  const res = await call('POST', `/v2/models/${name}/infer`, input);
  expect(res.status).toBe(200);
  return ((res.json.outputs as { name: string; data: number[] }[]).find((o) => o.name === 'logits')!).data;
};

beforeAll(async () => {
  repo = await makeTempDir('sibyl-sandbox-control-');
  await writeModelRepository(repo, {
    linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } },
    // The attacker's answers: the same signature, other weights.
    evil: { versions: { 1: linearClassifierModel({ weights: LINEAR_4X3.weights, bias: LINEAR_4X3.bias.map((b) => b + 100) }).bytes } },
  });
  await symlink('/etc/passwd', path.join(repo, 'linear', 'reference.csv'));
  server = await createTestServer(repo, { modelControlMode: 'explicit', loadModels: ['*'] });
});

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

describe('config overrides of a load request', () => {
  it.each(['/etc/passwd', '../../../../../../etc/passwd', 'reference.csv'])('refuses drift.baselineFile %s: 403 PATH_NOT_ALLOWED naming the field', async (baselineFile) => {
    const res = await call('POST', '/v2/repository/models/linear/load', { parameters: { config: JSON.stringify({ drift: { ...DRIFT, baselineFile } }) } });
    expect(res.status).toBe(403);
    expect(res.json.reason).toBe('PATH_NOT_ALLOWED');
    expect(res.json.error).toContain('drift.baselineFile');
    expect(res.text).not.toMatch(/root:|nologin/);
    expect((await call('GET', '/v1/models/linear/drift')).text).not.toMatch(/root:|nologin/);
  });

  it('refuses an override that raises the prediction log sample rate without admin: 403 SCOPE_MISSING, nothing loaded with it', async () => {
    await expect(server.models.control.load('linear', { config: { predictionLog: { sampleRate: 1 } }, principal: reader })).rejects.toMatchObject({
      reason: 'SCOPE_MISSING',
      message: expect.stringContaining("predictionLog.sampleRate 1 is above the model's own 0"),
    });
    expect((await call('GET', '/v2/repository/state')).json).not.toMatchObject({ entries: { explicit: { linear: { config: expect.anything() } } } });
    // A lower or equal rate needs no admin; a higher one does, and admin may.
    await server.models.control.load('linear', { config: { predictionLog: { sampleRate: 0 } }, principal: reader });
    await server.models.control.load('linear', { config: { predictionLog: { sampleRate: 1 } }, principal: admin });
    await server.models.control.load('linear', { principal: reader });
  });
});

describe('endpoints with the name of a model', () => {
  it('refuses PUT /v1/endpoints/{a model} with 409 ENDPOINT_SHADOWS_MODEL; the model keeps answering', async () => {
    const before = await logitsOf('linear');
    const res = await call('PUT', '/v1/endpoints/linear', { target: { model: 'evil' } });
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ reason: 'ENDPOINT_SHADOWS_MODEL' });
    expect(res.json.error).toContain('replacesModel');
    expect(await logitsOf('linear')).toEqual(before);
  });

  it('takes the name with replacesModel: true — only with admin when a principal is known', async () => {
    await expect(server.endpoints.set('linear', { replacesModel: true, target: { model: 'evil' } }, reader)).rejects.toMatchObject({ reason: 'SCOPE_MISSING' });
    expect((await call('GET', '/v1/endpoints/linear')).status).toBe(404);
  });

  it('never lets an endpoint restored from a snapshot take over a model without the flag (it survives no restart either)', async () => {
    const before = await logitsOf('linear');
    const snapshot = { format: 'sibyl-state', formatVersion: 1, exportedAt: '', entries: { endpoints: { linear: { config: { target: { model: 'evil' } } } } } };
    expect((await call('PUT', '/v2/repository/state', snapshot)).status).toBe(200);
    await server.endpoints.load(); // what a restart does with the state store's endpoints
    expect(await logitsOf('linear')).toEqual(before);
    expect(await logitsOf('linear')).not.toEqual(await logitsOf('evil'));
    expect((await call('PUT', '/v2/repository/state', { ...snapshot, entries: { endpoints: {} } })).status).toBe(200);
  });
});

describe('PUT /v2/repository/state', () => {
  it('keeps the namespaces a snapshot does not name (labels, last known good) and never replaces job tracking', async () => {
    expect((await call('PUT', '/v2/repository/models/linear/labels/stable', { version: 1 })).status).toBe(200);
    const before = (await call('GET', '/v2/repository/state')).json.entries as Record<string, unknown>;
    expect(before).toMatchObject({ labels: { linear: { stable: { version: 1 } } } });
    expect((await call('PUT', '/v2/repository/state', { format: 'sibyl-state', formatVersion: 1, exportedAt: '', entries: {} })).status).toBe(200);
    expect((await call('GET', '/v2/repository/state')).json.entries).toEqual(before);
    const tracked = { format: 'sibyl-state', formatVersion: 1, exportedAt: '', entries: { 'batch-jobs': { forged: { startedAtMs: 1 } } } };
    expect((await call('PUT', '/v2/repository/state', tracked)).status).toBe(200);
    expect((await call('GET', '/v2/repository/state')).json.entries).toEqual(before);
    // Emptying a namespace is said, not implied.
    expect((await call('PUT', '/v2/repository/state', { format: 'sibyl-state', formatVersion: 1, exportedAt: '', entries: { labels: {} } })).status).toBe(200);
    expect((await call('GET', '/v2/repository/state')).json.entries).not.toHaveProperty('labels');
  });

  it('validates a load override in the snapshot as a model config: 400 STATE_INVALID for a file outside the folder or a wrong field', async () => {
    for (const [config, message] of [
      [{ drift: { ...DRIFT, baselineFile: '/etc/passwd' } }, 'entries.explicit.linear.config.drift.baselineFile: "/etc/passwd" leaves the model\'s folder'],
      [{ predictionLog: { sampleRate: 7 } }, 'entries.explicit.linear.config.predictionLog.sampleRate'],
    ] as const) {
      const res = await call('PUT', '/v2/repository/state', { format: 'sibyl-state', formatVersion: 1, exportedAt: '', entries: { explicit: { linear: { loaded: true, config } } } });
      expect(res.status).toBe(400);
      expect(res.json.reason).toBe('STATE_INVALID');
      expect(res.json.error).toContain(message);
    }
  });
});

describe('404s', () => {
  it('name no other model or endpoint', async () => {
    expect((await call('PUT', '/v1/endpoints/scores', { target: { model: 'linear' } })).status).toBe(200);
    for (const url of ['/v2/models/nope', '/v2/models/nope/ready', '/v1/endpoints/nope']) {
      const res = await call('GET', url);
      expect(res.status).toBe(404);
      expect(res.text).not.toMatch(/linear|evil|scores/);
    }
    const infer = await call('POST', '/v2/models/nope/infer', input);
    expect(infer.status).toBe(404);
    expect(infer.text).not.toMatch(/linear|evil|scores/);
    expect(infer.json.error).toContain('POST /v2/repository/index');
  });
});
