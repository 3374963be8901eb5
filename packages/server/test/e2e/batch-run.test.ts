// End to end: the real `sibyl batch run` binary.
// 1. Batch and online predictions of the same rows are identical: the rows of a CSV file are
//    scored by a batch job, and the same text is posted to a real `sibyl serve` over HTTP V2
//    (one request per row, and all rows in one request); the stored outputs equal the online
//    ones exactly.
// 2. Resume after a crash: the job is SIGKILLed mid-run; running it again resumes the same job,
//    skips the chunks it committed, and every row is stored exactly once.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlitePredictionStore } from '../../src/batch/sqlite-prediction-store.ts';
import { makeTempDir, removeDir, spawnSibyl, type SpawnedServer } from '../../src/testing/index.ts';

const BIN = fileURLToPath(new URL('../../bin/sibyl.js', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../../examples/models', import.meta.url));
const FEATURES = Array.from({ length: 32 }, (_, i) => `f${i}`);

function run(args: string[], cwd: string): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [BIN, 'batch', 'run', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, out, err })));
  return { child, done };
}

function jobYaml(dir: string, name: string, csv: string, store: string, chunkRows: number): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, [`name: ${name}`, `source: {csv: ${csv}}`, 'key: id', 'inputs:', `  input: {columns: [${FEATURES.join(', ')}]}`, 'target: {model: tabular_mlp}', `store: {sqlite: ${store}}`, `chunkRows: ${chunkRows}`, ''].join('\n'));
  return file;
}

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('sibyl-batch-e2e-');
});
afterAll(async () => {
  await removeDir(dir);
});

describe('sibyl batch run', () => {
  let server: SpawnedServer;
  afterAll(async () => {
    await server?.stop();
  });

  it('stores exactly the predictions the online V2 JSON path gives for the same rows', async () => {
    // Texts of many kinds: short and long decimals, exponents, integers, signs, 17 significant digits.
    const texts: string[][] = [];
    for (let r = 0; r < 60; r++) {
      texts.push(
        FEATURES.map((_, j) => {
          const x = Math.sin(r * 97 + j * 13) * 6;
          switch ((r + j) % 6) {
            case 0:
              return x.toFixed(6);
            case 1:
              return String(x); // up to 17 significant digits: the text path
            case 2:
              return x.toExponential(4);
            case 3:
              return String(Math.round(x));
            case 4:
              return (x / 1000).toPrecision(9);
            default:
              return x.toFixed(2);
          }
        }),
      );
    }
    writeFileSync(path.join(dir, 'same.csv'), `id,${FEATURES.join(',')}\n` + texts.map((t, r) => `row${r},${t.join(',')}`).join('\n') + '\n');
    const job = jobYaml(dir, 'identity', 'same.csv', 'identity.sqlite', 16);
    const batch = await run([job, '--model-repository', EXAMPLES], dir).done;
    expect(batch.err + batch.out).toMatch(/SUCCEEDED/);
    expect(batch.code).toBe(0);

    server = await spawnSibyl(['--model-repository', EXAMPLES, '--state-store', ':memory:']);
    const post = async (rows: string[][]): Promise<number[][]> => {
      // The CSV text goes into the JSON body as it is: the server parses the same digits.
      const body = `{"inputs":[{"name":"input","datatype":"FP32","shape":[${rows.length},32],"data":[${rows.map((t) => `[${t.join(',')}]`).join(',')}]}]}`;
      const res = await fetch(`${server.url}/v2/models/tabular_mlp/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(200);
      const json = (await res.json()) as { model_version: string; outputs: { name: string; shape: number[]; data: number[] }[] };
      expect(json.outputs[0]!.name).toBe('probabilities');
      const n = json.outputs[0]!.shape[1]!;
      return rows.map((_, i) => json.outputs[0]!.data.slice(i * n, (i + 1) * n));
    };
    const oneByOne: number[][] = [];
    for (const t of texts) oneByOne.push((await post([t]))[0]!);
    const together = await post(texts);

    const store = await SqlitePredictionStore.open(path.join(dir, 'identity.sqlite'));
    try {
      const stored = await store.lookup('tabular_mlp', texts.map((_, r) => `row${r}`));
      expect(stored.size).toBe(texts.length);
      const batchOutputs = texts.map((_, r) => stored.get(`row${r}`)!.outputs[0]!.data as number[]);
      expect(batchOutputs).toEqual(oneByOne);
      expect(batchOutputs).toEqual(together);
      expect(stored.get('row0')!.version).toBe('1');
    } finally {
      await store.close();
    }
  }, 60_000);

  it('resumes after being killed: committed chunks are skipped and every row is stored exactly once', async () => {
    const rows = 150_000;
    let s = `id,${FEATURES.join(',')}\n`;
    for (let r = 0; r < rows; r++) s += `k${r},${FEATURES.map((_, j) => (((r * 7 + j * 3) % 100) / 10 - 5).toFixed(3)).join(',')}\n`;
    writeFileSync(path.join(dir, 'big.csv'), s);
    const job = jobYaml(dir, 'crashy', 'big.csv', 'crashy.sqlite', 2000);
    const storeFile = path.join(dir, 'crashy.sqlite');

    const first = run([job, '--model-repository', EXAMPLES], dir);
    // Kill it once it has committed a few chunks (read from the store, as a second process would).
    const committedSoFar = async (): Promise<{ id: string; committed: number } | undefined> => {
      const store = await SqlitePredictionStore.open(storeFile);
      try {
        const [rec] = await store.listJobs({ name: 'crashy', limit: 1 });
        return rec === undefined ? undefined : { id: rec.id, committed: (await store.committedChunks(rec.id)).size };
      } finally {
        await store.close();
      }
    };
    let seen: { id: string; committed: number } | undefined;
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 25));
      seen = await committedSoFar().catch(() => undefined);
      if (seen !== undefined && seen.committed >= 3) break;
    }
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const atKill = await committedSoFar();
    expect(atKill!.committed).toBeGreaterThanOrEqual(3);
    expect(atKill!.committed).toBeLessThan(rows / 2000); // killed mid-run, not after the end

    const second = await run([job, '--model-repository', EXAMPLES], dir).done;
    expect(second.code).toBe(0);
    expect(second.out).toContain(`batch job crashy (${atKill!.id}) SUCCEEDED`);
    expect(second.out).toMatch(new RegExp(`chunks +75 of 75 committed \\(${atKill!.committed} by an earlier run, skipped\\)`));

    const store = await SqlitePredictionStore.open(storeFile);
    try {
      const jobs = await store.listJobs({ name: 'crashy' });
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ id: atKill!.id, status: 'succeeded', chunksCommitted: 75, chunksTotal: 75 });
    } finally {
      await store.close();
    }
    const db = new Database(storeFile, { readonly: true });
    try {
      const counted = db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT key) AS keys FROM predictions WHERE model = 'tabular_mlp' AND key LIKE 'k%'").get() as { n: number; keys: number };
      expect(counted).toEqual({ n: rows, keys: rows });
      const byJob = db.prepare("SELECT job_id, COUNT(*) AS n FROM predictions WHERE key LIKE 'k%' GROUP BY job_id").all();
      expect(byJob).toEqual([{ job_id: atKill!.id, n: rows }]);
    } finally {
      db.close();
    }
  }, 120_000);
});
