// Issue 13 C1 (per job): chunks end at chunkRows rows or once their records reach chunkBytes, so a
// job on wide rows holds a few chunks of bounded bytes, not chunkRows × record size. The cut is
// deterministic: a read that skips chunks yields the same chunks (indices, rows, row numbers) as a
// full read, so resume skips the right ones. CSV (in this thread and in the worker), JSON Lines,
// SQLite; Parquet cuts by rows only.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../../testing/index.ts';
import type { BatchSource, SourceChunk } from '../source.ts';
import { CsvSource } from './csv-source.ts';
import { JsonlSource } from './jsonl-source.ts';
import { chunkRowStream } from './row-chunker.ts';
import { SqliteQuerySource } from './sql-source.ts';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('sibyl-chunk-bytes-');
});
afterEach(async () => {
  await removeDir(dir);
});

/** [index, firstRowNumber, ids] of each chunk. */
async function cut(source: BatchSource, options: { chunkRows: number; chunkBytes?: number; skip?: Set<number> }): Promise<[number, number, string[]][]> {
  const out: [number, number, string[]][] = [];
  for await (const c of source.chunks(options)) out.push([c.index, c.firstRowNumber, (c.rows as SourceChunk['rows']).map((r) => String(r.id))]);
  await source.close();
  return out;
}

// Rows 1..7; rows 3 and 6 are wide (100 bytes of text), the others a few bytes.
const ids = ['1', '2', '3', '4', '5', '6', '7'];
const pad = (id: string): string => (id === '3' || id === '6' ? 'w'.repeat(100) : 'n');

describe('chunks cut by bytes as well as rows', () => {
  it('CSV: a chunk ends once its records reach chunkBytes (a record is never split); skipping gives the same chunks', async () => {
    const file = path.join(dir, 'wide.csv');
    writeFileSync(file, 'id,x,t\n' + ids.map((id) => `${id},1,${pad(id)}\n`).join('') + '\n');
    for (const scanIn of ['thread', 'worker'] as const) {
      const open = (): CsvSource => CsvSource.create(file, { columns: ['id', 'x', 't'], textColumns: ['id', 't'], scanIn });
      const full = await cut(open(), { chunkRows: 4, chunkBytes: 50 });
      // Records: "1,1,n\n" is 6 bytes, "3,1,w…w\n" 105. Chunk 0: 1,2,3 (117 ≥ 50); 1: 4,5,6; 2: 7.
      expect(full).toEqual([
        [0, 2, ['1', '2', '3']],
        [1, 5, ['4', '5', '6']],
        [2, 8, ['7']],
      ]);
      expect(await cut(open(), { chunkRows: 4, chunkBytes: 50, skip: new Set([0, 2]) })).toEqual([full[1]]);
      // Rows still bound a chunk of narrow records; no chunkBytes: rows only, as before.
      expect((await cut(open(), { chunkRows: 2, chunkBytes: 1_000_000 })).map((c) => c[2])).toEqual([['1', '2'], ['3', '4'], ['5', '6'], ['7']]);
      expect((await cut(open(), { chunkRows: 4 })).map((c) => c[2])).toEqual([['1', '2', '3', '4'], ['5', '6', '7']]);
    }
  });

  it('JSON Lines: the same cut by the values of each row; skipping gives the same chunks', async () => {
    const file = path.join(dir, 'wide.jsonl');
    writeFileSync(file, ids.map((id) => JSON.stringify({ id, t: pad(id) }) + '\n').join(''));
    const full = await cut(JsonlSource.create(file), { chunkRows: 4, chunkBytes: 50 });
    expect(full).toEqual([
      [0, 1, ['1', '2', '3']],
      [1, 4, ['4', '5', '6']],
      [2, 7, ['7']],
    ]);
    expect(await cut(JsonlSource.create(file), { chunkRows: 4, chunkBytes: 50, skip: new Set([0]) })).toEqual(full.slice(1));
  });

  it('SQLite query: the same cut by the values of each row', async () => {
    const file = path.join(dir, 'wide.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE t (id TEXT, t TEXT)');
    for (const id of ids) db.prepare('INSERT INTO t VALUES (?, ?)').run(id, pad(id));
    db.close();
    const open = (): SqliteQuerySource => SqliteQuerySource.create(file, 'SELECT id, t FROM t ORDER BY id');
    const full = await cut(open(), { chunkRows: 4, chunkBytes: 50 });
    expect(full.map((c) => c[2])).toEqual([['1', '2', '3'], ['4', '5', '6'], ['7']]);
    expect(await cut(open(), { chunkRows: 4, chunkBytes: 50, skip: new Set([1]) })).toEqual([full[0], full[2]]);
  });

  it('chunkRowStream numbers the rows of byte-cut chunks by the rows before them', async () => {
    const rows = ids.map((id) => ({ id, t: pad(id) }));
    const chunks: SourceChunk[] = [];
    for await (const c of chunkRowStream(rows, { chunkRows: 10, chunkBytes: 100 }, 1)) chunks.push(c);
    expect(chunks.map((c) => [c.index, c.firstRowNumber, c.rows.length])).toEqual([
      [0, 1, 3],
      [1, 4, 3],
      [2, 7, 1],
    ]);
  });
});
