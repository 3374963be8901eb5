// Issue 13 C1: every source bounds a record's size and refuses files that are not regular files,
// so one bad file (a device, a FIFO, a file of one endless line) cannot grow the process without
// bound or hang it. Real files, a real FIFO, a real SQLite database, real Parquet files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../../testing/index.ts';
import type { BatchSource, SourceChunk } from '../source.ts';
import { CsvSource } from './csv-source.ts';
import { JsonlSource } from './jsonl-source.ts';
import { readLines } from './line-reader.ts';
import { ParquetSource } from './parquet-source.ts';
import { rowBytes } from './row-size.ts';
import { SqliteQuerySource } from './sql-source.ts';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('sibyl-source-limits-');
});
afterEach(async () => {
  await removeDir(dir);
});

async function all(source: BatchSource, chunkRows = 10): Promise<SourceChunk[]> {
  const out: SourceChunk[] = [];
  try {
    for await (const c of source.chunks({ chunkRows })) out.push(c);
  } finally {
    await source.close();
  }
  return out;
}

const KIB = 1024;

describe('sources refuse files that are not regular files, before reading', () => {
  const sources = (file: string): [string, BatchSource][] => [
    ['CSV', CsvSource.create(file)],
    ['CSV (worker)', CsvSource.create(file, { scanIn: 'worker' })],
    ['JSON Lines', JsonlSource.create(file)],
    ['Parquet', ParquetSource.create(file)],
  ];

  it('a character device (/dev/zero)', async () => {
    for (const [what, source] of sources('/dev/zero')) {
      await expect(all(source), what).rejects.toThrow(/\/dev\/zero is a character device; expected a regular file/);
    }
  });

  it('a FIFO without a writer (opening it must not wait for one)', async () => {
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    for (const [what, source] of sources(fifo)) {
      await expect(all(source), what).rejects.toThrow(/pipe is a FIFO \(named pipe\); expected a regular file/);
    }
    expect(await CsvSource.create(fifo).countRows()).toBeUndefined();
    // SQLite would block this thread opening a FIFO: refused before it opens.
    await expect(all(SqliteQuerySource.create(fifo, 'SELECT 1'))).rejects.toThrow(/the SQLite source .*pipe is a FIFO \(named pipe\); expected a regular file/);
  });

  it('a directory', async () => {
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    for (const [what, source] of sources(sub)) {
      await expect(all(source), what).rejects.toThrow(/sub is a directory; expected a regular file/);
    }
  });
});

describe('CSV: a record over maxRecordBytes fails, naming the file, the row and the limit', () => {
  it('a header longer than the limit (the file of one endless line)', async () => {
    const file = path.join(dir, 'endless.csv');
    writeFileSync(file, 'a'.repeat(300 * KIB));
    for (const scanIn of ['thread', 'worker'] as const) {
      await expect(all(CsvSource.create(file, { maxRecordBytes: 64 * KIB, scanIn })), scanIn).rejects.toThrow(
        `${file}: the header (row 1) is longer than maxRecordBytes (65536 bytes)`,
      );
    }
  });

  it('a row longer than the limit, within a block and across blocks; rows at the limit pass', async () => {
    const file = path.join(dir, 'long.csv');
    // Row 4 is exactly the limit with its line end; row 5 is over it.
    writeFileSync(file, `id,v\na,1\nb,2\n${'x'.repeat(64 * KIB - 3)},3\nc,${'9'.repeat(100 * KIB)}\nd,4\n`);
    for (const scanIn of ['thread', 'worker'] as const) {
      await expect(all(CsvSource.create(file, { maxRecordBytes: 64 * KIB, scanIn })), scanIn).rejects.toThrow(`${file}: row 5 (the header is row 1) is longer than maxRecordBytes (65536 bytes)`);
    }
    // A record of exactly the limit (its line end included) is read.
    const exact = path.join(dir, 'exact.csv');
    writeFileSync(exact, `id,v\n${'y'.repeat(64 * KIB - 3)},7\n`);
    const [chunk] = await all(CsvSource.create(exact, { maxRecordBytes: 64 * KIB }));
    expect(Array.from(chunk!.columns!.get('v')!.numbers)).toEqual([7]);
    // Larger than a block (4 MiB) by default limit: read.
    const big = path.join(dir, 'big.csv');
    writeFileSync(big, `id,v\n"${'z'.repeat(5 * 1024 * KIB)}",1\n`);
    const [bigChunk] = await all(CsvSource.create(big));
    expect(bigChunk!.columns!.get('id')!.texts[0]!.length).toBe(5 * 1024 * KIB);
  });

  it('a quote never closed fails at the limit, not at the end of the file', async () => {
    const file = path.join(dir, 'quote.csv');
    writeFileSync(file, `id,v\na,1\n"b,2\n${'c,3\n'.repeat(100 * KIB)}`);
    await expect(all(CsvSource.create(file, { maxRecordBytes: 16 * KIB }))).rejects.toThrow(/row 3 \(the header is row 1\) is longer than maxRecordBytes \(16384 bytes\).*a quote never closed/);
  });
});

describe('JSON Lines: a line over maxRecordBytes fails, naming the file, the line and the limit', () => {
  it('fails at the long line and reads every line before it', async () => {
    const file = path.join(dir, 'a.jsonl');
    writeFileSync(file, `{"id":1}\r\n\n{"id":2}\n${JSON.stringify({ id: 3, s: 'x'.repeat(100 * KIB) })}\n{"id":4}\n`);
    const rows: unknown[] = [];
    const read = async (): Promise<void> => {
      for await (const chunk of JsonlSource.create(file, { maxRecordBytes: 64 * KIB }).chunks({ chunkRows: 1 })) rows.push(...chunk.rows);
    };
    await expect(read()).rejects.toThrow(`${file}: line 4 is longer than maxRecordBytes (65536 bytes)`);
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('a file of one endless line fails at the limit', async () => {
    const file = path.join(dir, 'endless.jsonl');
    writeFileSync(file, '['.repeat(3 * 1024 * KIB));
    await expect(all(JsonlSource.create(file, { maxRecordBytes: 1024 * KIB }))).rejects.toThrow(/line 1 is longer than maxRecordBytes \(1048576 bytes\)/);
  });
});

describe('readLines', () => {
  const cases: { name: string; text: string; block: number; max: number; lines?: string[]; tooLong?: number }[] = [
    { name: 'LF and CRLF ends, a last line without one', text: 'a\r\nbb\n\nccc', block: 2, max: 10, lines: ['a', 'bb', '', 'ccc'] },
    { name: 'a BOM before the first line is dropped', text: '\ufeff{"a":1}\n', block: 3, max: 10, lines: ['{"a":1}'] },
    { name: 'multi-byte characters split across blocks', text: 'héllo\nwörld\n', block: 1, max: 10, lines: ['héllo', 'wörld'] },
    { name: 'a line of exactly the limit', text: 'abcd\nabcde\n', block: 2, max: 5, lines: ['abcd', 'abcde'] },
    { name: 'a line over the limit, ended', text: 'ab\nabcdef\n', block: 16, max: 5, tooLong: 2 },
    { name: 'a line over the limit, across blocks and unended', text: 'ab\ncd\nabcdefghijklmnop', block: 2, max: 5, tooLong: 3 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const file = path.join(dir, 'lines.txt');
      writeFileSync(file, c.text);
      const handle = await open(file, 'r');
      const got: string[] = [];
      try {
        const run = async (): Promise<void> => {
          for await (const line of readLines(handle, c.max, (n) => new Error(`line ${n} too long`), c.block)) got.push(line);
        };
        if (c.tooLong === undefined) {
          await run();
          expect(got).toEqual(c.lines);
        } else {
          await expect(run()).rejects.toThrow(`line ${c.tooLong} too long`);
        }
      } finally {
        await handle.close();
      }
    });
  }
});

describe('SQL rows over maxRecordBytes fail, naming the row and the limit', () => {
  it('SQLite: a row whose values are over the limit', async () => {
    const file = path.join(dir, 'a.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE t (id INTEGER, s TEXT, b BLOB)');
    const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
    insert.run(1, 'small', Buffer.alloc(10));
    insert.run(2, 'x'.repeat(10), Buffer.alloc(80 * KIB));
    db.close();
    await expect(all(SqliteQuerySource.create(file, 'SELECT * FROM t ORDER BY id', { maxRecordBytes: 64 * KIB }), 1)).rejects.toThrow(
      `the SQLite source ${file}: row 2 of the query is longer than maxRecordBytes (65536 bytes)`,
    );
    expect((await all(SqliteQuerySource.create(file, 'SELECT * FROM t ORDER BY id'))).flatMap((c) => c.rows.map((r) => r.id))).toEqual([1, 2]);
  });

  it('rowBytes counts texts, bytes and nested JSON values of any depth, and stops past the limit', () => {
    expect(rowBytes({ a: 'abc', b: 1, c: Buffer.alloc(5) }, 1000)).toBe(1 + 3 + 1 + 8 + 1 + 5);
    expect(rowBytes({ j: { k: ['xy', null] } }, 1000)).toBe(1 + 1 + 8 + 2 + 8);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(rowBytes({ deep }, 100)).toBeGreaterThan(100);
  });
});

describe('Parquet: a row group over maxRowGroupBytes fails before it is read', () => {
  it('names the file, the row group and the limit', async () => {
    const file = path.join(dir, 'a.parquet');
    parquetWriteFile({
      filename: file,
      columnData: [
        { name: 'id', data: Array.from({ length: 200 }, (_, i) => i), type: 'INT32' },
        { name: 's', data: Array.from({ length: 200 }, (_, i) => `${i}`.padEnd(200, 'x')), type: 'STRING' },
      ],
      rowGroupSize: 100,
    });
    await expect(all(ParquetSource.create(file, ['id', 's'], { maxRowGroupBytes: 4 * KIB }))).rejects.toThrow(/a\.parquet: row group 0 \(100 rows\) holds \d+ bytes of the columns the job reads, more than maxRowGroupBytes \(4096 bytes\)/);
    // The columns the job does not read do not count.
    expect((await all(ParquetSource.create(file, ['id'], { maxRowGroupBytes: 4 * KIB }), 100)).map((c) => c.rows.length)).toEqual([100, 100]);
  });
});
