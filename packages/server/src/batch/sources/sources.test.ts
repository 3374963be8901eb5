import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../../testing/index.ts';
import type { BatchSource, SourceChunk } from '../source.ts';
import { CsvSource } from './csv-source.ts';
import { JsonlSource } from './jsonl-source.ts';
import { ParquetSource } from './parquet-source.ts';
import { SqliteQuerySource } from './sql-source.ts';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('sibyl-sources-');
});
afterEach(async () => {
  await removeDir(dir);
});

async function all(source: BatchSource, chunkRows: number, skip?: Set<number>): Promise<SourceChunk[]> {
  const out: SourceChunk[] = [];
  for await (const c of source.chunks({ chunkRows, ...(skip === undefined ? {} : { skip }) })) out.push(c);
  await source.close();
  return out;
}

describe('CsvSource', () => {
  it('parses plain numbers straight into numbers, everything else as text, in chunks', async () => {
    const file = path.join(dir, 'a.csv');
    writeFileSync(file, '\ufeffid,x,y,skip\r\nk1,1.5,-2,zz\r\n"k,2",0.1,abc,zz\r\n\r\nk3,,1e3,"q""x"\nk4,007,+4.25,z');
    expect(await CsvSource.create(file).countRows()).toBe(5); // blank lines count in the estimate
    const chunks = await all(CsvSource.create(file, { columns: ['id', 'x', 'y'], textColumns: ['id'] }), 3);
    expect(chunks.map((c) => [c.index, c.firstRowNumber, c.columns!.rowCount])).toEqual([
      [0, 2, 3],
      [1, 5, 1],
    ]);
    const [a, b] = chunks;
    expect(a!.columns!.get('id')!.texts.slice(0, 3)).toEqual(['k1', 'k,2', 'k3']);
    expect(Array.from(a!.columns!.get('x')!.numbers)).toEqual([1.5, 0.1, NaN]);
    expect(a!.columns!.get('x')!.texts[2]).toBe('');
    expect(Array.from(a!.columns!.get('y')!.numbers).slice(0, 2)).toEqual([-2, NaN]);
    expect(a!.columns!.get('y')!.texts[1]).toBe('abc');
    expect(a!.columns!.get('y')!.texts[2]).toBe('1e3'); // exponents are text: Number() reads them in the mapping
    expect(a!.columns!.get('skip')).toBeUndefined();
    expect(Array.from(b!.columns!.get('y')!.numbers)).toEqual([4.25]);
    expect(b!.rows).toEqual([{ id: 'k4', x: '7', y: '4.25' }]);
  });

  it('gives exactly the double JSON.parse gives for the same text', async () => {
    const texts = ['0.1', '-3.141593', '123456789012345', '0.000001', '9007199254740.99', '2.5', '-0'];
    const file = path.join(dir, 'n.csv');
    writeFileSync(file, 'v\n' + texts.join('\n') + '\n');
    const [chunk] = await all(CsvSource.create(file), 100);
    const got = Array.from(chunk!.columns!.get('v')!.numbers);
    expect(got.map((x) => Object.is(x, -0) ? '-0' : x)).toEqual(texts.map((t) => (t === '-0' ? '-0' : JSON.parse(t) as number)));
  });

  it('skips chunks without yielding them and keeps numbering', async () => {
    const file = path.join(dir, 's.csv');
    writeFileSync(file, 'id\n' + Array.from({ length: 10 }, (_, i) => `r${i}`).join('\n') + '\n');
    expect(await CsvSource.create(file).countRows()).toBe(10);
    const chunks = await all(CsvSource.create(file), 3, new Set([0, 2]));
    expect(chunks.map((c) => [c.index, c.firstRowNumber, c.columns!.get('id')!.texts.slice(0, c.columns!.rowCount)])).toEqual([
      [1, 5, ['r3', 'r4', 'r5']],
      [3, 11, ['r9']],
    ]);
  });

  it('reads fields longer than a block and names missing columns', async () => {
    const file = path.join(dir, 'big.csv');
    const long = 'x'.repeat(5 * 1024 * 1024);
    writeFileSync(file, `id,v\n"${long}",1\nb,2\n`);
    const [chunk] = await all(CsvSource.create(file), 10);
    expect(chunk!.columns!.get('id')!.texts[0]!.length).toBe(long.length);
    expect(Array.from(chunk!.columns!.get('v')!.numbers)).toEqual([1, 2]);
    await expect(all(CsvSource.create(file, { columns: ['id', 'nope'] }), 10)).rejects.toThrow(/no column 'nope'; its columns are 'id', 'v'/);
    await expect(all(CsvSource.create(path.join(dir, 'missing.csv')), 10)).rejects.toThrow(/file not found/);
    writeFileSync(path.join(dir, 'empty.csv'), '');
    await expect(all(CsvSource.create(path.join(dir, 'empty.csv')), 10)).rejects.toThrow(/the CSV source is empty; expected a header row/);
  });

  it('scans the same chunks in a worker thread as in this one, and reports its errors', async () => {
    const file = path.join(dir, 'w.csv');
    let text = 'id,a,b\n';
    for (let r = 0; r < 2500; r++) text += `w${r},${(r / 7).toFixed(5)},${r % 3 === 0 ? 'x' + r : r}\n`;
    writeFileSync(file, text);
    const read = async (scanIn: 'worker' | 'thread') =>
      (await all(CsvSource.create(file, { textColumns: ['id'], scanIn }), 1000, new Set([1]))).map((c) => ({
        index: c.index,
        first: c.firstRowNumber,
        id: c.columns!.get('id')!.texts.slice(0, 3),
        a: Array.from(c.columns!.get('a')!.numbers),
        b: Array.from(c.columns!.get('b')!.numbers),
        bText: c.columns!.get('b')!.texts.slice(0, 4),
      }));
    const inWorker = await read('worker');
    expect(inWorker).toEqual(await read('thread'));
    expect(inWorker.map((c) => [c.index, c.first, c.a.length])).toEqual([
      [0, 2, 1000],
      [2, 2002, 500],
    ]);
    expect(inWorker[0]!.bText).toEqual(['x0', undefined, undefined, 'x3']);
    await expect(all(CsvSource.create(file, { columns: ['nope'], scanIn: 'worker' }), 10)).rejects.toThrow(/the header has no column 'nope'/);
  });
});

describe('JsonlSource', () => {
  it('streams JSON objects, keeps unsafe integers exact and marks unreadable lines', async () => {
    const file = path.join(dir, 'a.jsonl');
    writeFileSync(file, '{"id":1,"x":[1,2]}\n\n{"id":12345678901234567890,"x":[3,4]}\nnot json\n');
    const chunks = await all(JsonlSource.create(file), 2);
    expect(chunks.map((c) => c.rows.length)).toEqual([2, 1]);
    expect(chunks[0]!.rows[0]).toEqual({ id: 1, x: [1, 2] });
    expect(chunks[0]!.rows[1]!.id).toBe(12345678901234567890n);
    expect(String(Object.values(chunks[1]!.rows[0]!)[0])).toMatch(/line 4 is not valid JSON/);
  });
});

describe('ParquetSource', () => {
  it('reads row groups into chunks, skipping row groups of committed chunks, and counts rows', async () => {
    const file = path.join(dir, 'a.parquet');
    const n = 25;
    parquetWriteFile({
      filename: file,
      columnData: [
        { name: 'id', data: Array.from({ length: n }, (_, i) => `p${i}`), type: 'STRING' },
        { name: 'x', data: Array.from({ length: n }, (_, i) => i / 2), type: 'DOUBLE' },
      ],
      rowGroupSize: 10,
    });
    const source = ParquetSource.create(file, ['id', 'x']);
    expect(await source.countRows()).toBe(n);
    const chunks = await all(source, 4);
    expect(chunks.map((c) => c.rows.length)).toEqual([4, 4, 4, 4, 4, 4, 1]);
    expect(chunks.flatMap((c) => c.rows.map((r) => r.id))).toEqual(Array.from({ length: n }, (_, i) => `p${i}`));
    expect(chunks[6]!.firstRowNumber).toBe(25);
    const skipped = await all(ParquetSource.create(file), 4, new Set([0, 1, 3]));
    expect(skipped.map((c) => [c.index, c.rows[0]!.id])).toEqual([
      [2, 'p8'],
      [4, 'p16'],
      [5, 'p20'],
      [6, 'p24'],
    ]);
  });
});

describe('SqliteQuerySource', () => {
  it('iterates a query in chunks and counts its rows', async () => {
    const file = path.join(dir, 'a.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE t (id TEXT, x REAL)');
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    for (let i = 0; i < 7; i++) insert.run(`s${i}`, i * 1.5);
    db.close();
    const source = SqliteQuerySource.create(file, 'SELECT id, x FROM t ORDER BY id');
    expect(await source.countRows()).toBe(7);
    const chunks = await all(source, 3, new Set([1]));
    expect(chunks.map((c) => [c.index, c.firstRowNumber, c.rows.map((r) => r.id)])).toEqual([
      [0, 1, ['s0', 's1', 's2']],
      [2, 7, ['s6']],
    ]);
    expect(chunks[0]!.rows[1]).toEqual({ id: 's1', x: 1.5 });
    await expect(all(SqliteQuerySource.create(file, 'SELECT nope FROM t'), 3)).rejects.toThrow(/cannot run the query: no such column: nope/);
  });
});
