import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { makeTempDir, removeDir } from '../testing/index.ts';
import { stateStoreContract } from '../testing/state-store-contract.ts';
import { SqliteStateStore } from './sqlite-state-store.ts';
import { parseStateSnapshot } from './state-store.ts';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await makeTempDir('sibyl-state-');
});
afterAll(async () => {
  await removeDir(dir);
});

const fileOf = (i: number): string => path.join(dir, `nested/folder/state-${i}.sqlite`);
stateStoreContract('SQLite file', { open: () => SqliteStateStore.open(fileOf(++n)), reopen: () => SqliteStateStore.open(fileOf(n)) });
stateStoreContract('SQLite :memory:', { open: () => SqliteStateStore.open(':memory:') });

describe('SqliteStateStore', () => {
  it('names the file it cannot open', async () => {
    const notADatabase = path.join(dir, 'text.sqlite');
    await writeFile(notADatabase, 'this is not a database file, just text long enough to have a header of its own');
    await expect(SqliteStateStore.open(notADatabase)).rejects.toThrow(`cannot open the state store ${notADatabase}: file is not a database`);
  });
});

const SNAPSHOT = { format: 'sibyl-state', formatVersion: 1, exportedAt: '2026-12-03T00:00:00.000Z' };

describe('parseStateSnapshot', () => {
  it('accepts every namespace the server writes, in its shape', () => {
    const doc = {
      ...SNAPSHOT,
      entries: {
        labels: { m: { stable: { version: 2, history: [1] } } },
        explicit: { m: { loaded: true, config: { maxBatchSize: 4 } }, n: { loaded: false } },
        models: { m: { lastKnownGood: 2 } },
        endpoints: {
          e: { config: { target: { model: 'm' } }, state: { active: 'green', canary: { status: 'running', stage: 1, stageStartedMs: 5, history: [{ atMs: 5, from: 'a', to: 'b', reason: 'r' }] } } },
          f: { state: {}, configHash: 'abc' },
        },
        'batch-jobs': { j1: { startedAtMs: 7 } },
      },
    };
    expect(parseStateSnapshot(doc, 'f.json')).toEqual(doc);
  });

  it('accepts what export() writes', () => {
    const doc = { format: 'sibyl-state', formatVersion: 1, exportedAt: '2026-12-03T00:00:00.000Z', entries: { labels: { m: {} } } };
    expect(parseStateSnapshot(doc, 'f.json')).toEqual(doc);
  });
  const bad = [
    { doc: [1], message: 'f.json: not a JSON object' },
    { doc: { format: 'other' }, message: 'f.json: format is "other", not "sibyl-state"' },
    { doc: { format: 'sibyl-state', formatVersion: 2 }, message: 'f.json: formatVersion is 2; this server reads version 1' },
    // Issue 13: a restore takes known namespaces with values of their shapes only, and names the bad field.
    { doc: { format: 'sibyl-state', formatVersion: 1, entries: { labels: 3 } }, message: 'f.json: entries.labels: 3 is not allowed; expected a mapping' },
    { doc: { ...SNAPSHOT, entries: { junk: { a: 1 } } }, message: 'f.json: entries.junk: unknown field; allowed fields here: labels, explicit, models, endpoints, batch-jobs' },
    { doc: { ...SNAPSHOT, entries: { labels: { m: { stable: { version: 'x', history: [] } } } } }, message: 'f.json: entries.labels.m.stable.version: "x" is not allowed; expected an integer from 1' },
    { doc: { ...SNAPSHOT, entries: { labels: { m: { stable: { version: 1, history: [], extra: true } } } } }, message: 'f.json: entries.labels.m.stable.extra: unknown field; allowed fields here: version, history' },
    { doc: { ...SNAPSHOT, entries: { explicit: { m: { loaded: 'yes' } } } }, message: 'f.json: entries.explicit.m.loaded: "yes" is not allowed; expected true or false' },
    { doc: { ...SNAPSHOT, entries: { models: { m: [] } } }, message: 'f.json: entries.models.m: [] is not allowed; expected a mapping with fields lastKnownGood' },
    { doc: { ...SNAPSHOT, entries: { endpoints: { e: { state: { active: 'red' } } } } }, message: 'f.json: entries.endpoints.e.state.active: "red" is not allowed; expected one of "blue", "green"' },
    { doc: { ...SNAPSHOT, entries: { endpoints: { e: { config: { target: 3 } } } } }, message: 'f.json: entries.endpoints.e.config' },
    { doc: { ...SNAPSHOT, entries: { 'batch-jobs': { j: {} } } }, message: 'f.json: entries.batch-jobs.j.startedAtMs: is required' },
    { doc: { ...SNAPSHOT, junk: 1 }, message: 'f.json: "junk" is not a field of a snapshot' },
  ];
  for (const { doc, message } of bad) {
    it(`rejects ${JSON.stringify(doc)}`, () => {
      let caught: unknown;
      try {
        parseStateSnapshot(doc, 'f.json');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(SibylError);
      expect((caught as SibylError).reason).toBe('STATE_INVALID');
      expect((caught as SibylError).message.startsWith(message)).toBe(true);
    });
  }
});
