// `sibyl endpoints …` against a server listening on a real port (in process, scripted runtime).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerEndpointsCommand } from '../src/cli/endpoints-command.ts';
import { cliRunner } from './cli-harness.ts';
import type { SibylServer } from '../src/server.ts';
import { ScriptedRuntime, createTestServer, makeTempDir, removeDir, seededRandom, writeModelRepository } from '../src/testing/index.ts';

let repo: string;
let server: SibylServer;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-cli-endpoints-');
  await writeModelRepository(repo, { m: { versions: { 1: 'add 1', 2: 'add 2' }, config: 'labels: { stable: 1 }\n' } });
  server = await createTestServer(repo, { runtime: new ScriptedRuntime(), random: seededRandom(1) });
  await server.http.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

const sibyl = cliRunner(() => server.url, registerEndpointsCommand);

describe('sibyl endpoints', () => {
  it('sets endpoints from YAML, lists and shows them, switches and rolls back', async () => {
    const bg = path.join(repo, 'bg.yaml');
    await writeFile(bg, 'blueGreen:\n  blue: { model: m, version: 1 }\n  green: { model: m, version: 2 }\n  active: blue\n');
    const set = await sibyl('endpoints', 'set', 'web', '--file', bg);
    expect(set.code).toBe(0);
    expect(set.out).toMatch(/^web: blueGreen \(api\)\n\nARM\s+REQUESTS/);
    expect(set.out).toContain('blue-green: blue answers (blue m:1, green m:2)');
    expect(await sibyl('endpoints', 'switch', 'web')).toEqual({ code: 0, out: 'web: green answers\n', err: '' });

    const canary = path.join(repo, 'canary.yaml');
    await writeFile(canary, 'canary:\n  stable: { model: m, label: stable }\n  candidate: { model: m, version: 2 }\n  stageDurationMs: 600000\n');
    expect((await sibyl('endpoints', 'set', 'churn', '--file', canary)).code).toBe(0);
    const list = await sibyl('endpoints', 'list');
    expect(list.out.trimEnd().split('\n').map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(['ENDPOINT POLICY SOURCE', 'churn canary api', 'web blueGreen api']);
    const rolled = await sibyl('endpoints', 'rollback', 'churn', '--reason', 'checkout errors');
    expect(rolled).toEqual({ code: 0, out: 'churn: canary rolled-back (stage 1 (5%) → rolled-back: checkout errors)\n', err: '' });
    const shown = await sibyl('endpoints', 'show', 'churn');
    expect(shown.out).toContain('canary: rolled-back, stage 1 of 4 (5% → 25% → 50% → 100%), candidate m:2 gets 0.0%; stable m@stable');
    expect(shown.out).toMatch(/\d{4}-\d\d-\d\dT[\d:.]+Z {2}stage 1 \(5%\) → rolled-back: checkout errors/);
    expect(await sibyl('endpoints', 'delete', 'web')).toEqual({ code: 0, out: 'web: removed\n', err: '' });
  });

  it('records feedback for the arm that answered, and reports refusals with exit code 1', async () => {
    const res = await fetch(`${server.url}/v2/models/churn/infer`, { method: 'POST', body: JSON.stringify({ id: 'req-1', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] }) });
    expect(((await res.json()) as { id: string }).id).toBe('req-1');
    expect(await sibyl('endpoints', 'feedback', 'churn', 'req-1', 'true')).toEqual({ code: 0, out: 'churn: outcome recorded for arm stable\n', err: '' });
    const again = await sibyl('endpoints', 'feedback', 'churn', 'req-1', 'true');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^sibyl: endpoint 'churn' answered no request 'req-1' .*\(FEEDBACK_UNMATCHED\)\n$/);
    expect((await sibyl('endpoints', 'switch', 'churn')).err).toBe("sibyl: endpoint 'churn' is not blue-green; its policy is canary (ENDPOINT_ACTION_INVALID)\n");
    expect((await sibyl('endpoints', 'show', 'nope')).err).toBe("sibyl: no endpoint 'nope'; list them with GET /v1/endpoints (ENDPOINT_NOT_FOUND)\n");
  });

  it('reports a shadow before any comparison, and figures nothing measured yet, as such (not blank)', async () => {
    const file = path.join(repo, 'shadow.yaml');
    await writeFile(file, 'target: { model: m, version: 1 }\nshadow:\n  target: { model: m, version: 2 }\n  fraction: 1\n');
    expect((await sibyl('endpoints', 'set', 'quiet', '--file', file)).code).toBe(0);
    const shown = await sibyl('endpoints', 'show', 'quiet');
    expect(shown.out.split('\n')).toContain('shadow m:2: 0 sent, 0 dropped, 0 failed; no comparisons yet');
    const arm = shown.out.split('\n').find((l) => l.startsWith('default '));
    expect(arm?.trim().split(/\s+/)).toEqual(['default', '0', '0', 'n/a', 'n/a', '0', 'n/a', 'n/a']);
    expect(await sibyl('endpoints', 'delete', 'quiet')).toEqual({ code: 0, out: 'quiet: removed\n', err: '' });
  });
});
