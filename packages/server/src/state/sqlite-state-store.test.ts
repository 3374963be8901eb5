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

describe('parseStateSnapshot', () => {
  it('accepts what export() writes', () => {
    const doc = { format: 'sibyl-state', formatVersion: 1, exportedAt: '2026-12-03T00:00:00.000Z', entries: { labels: { m: {} } } };
    expect(parseStateSnapshot(doc, 'f.json')).toEqual(doc);
  });
  const bad = [
    { doc: [1], message: 'f.json: not a JSON object' },
    { doc: { format: 'other' }, message: 'f.json: format is "other", not "sibyl-state"' },
    { doc: { format: 'sibyl-state', formatVersion: 2 }, message: 'f.json: formatVersion is 2; this server reads version 1' },
    { doc: { format: 'sibyl-state', formatVersion: 1, entries: { labels: 3 } }, message: 'f.json: entries.labels is not an object of keys' },
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
