import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../testing/index.ts';
import { MAX_REJECT_LINE_CHARS, appendRejects, rejectLine } from './reject-file.ts';

let dir: string;
beforeEach(async () => (dir = await makeTempDir('sibyl-rejects-')));
afterEach(async () => removeDir(dir));

describe('reject file', () => {
  it('writes one JSON line per rejected row, bigints as text', async () => {
    const file = path.join(dir, 'sub', 'job.rejects.jsonl');
    await appendRejects(file, 'j1', 3, [
      { rowNumber: 9, key: 'cust7', reason: 'row 9: bad', row: { id: 'cust7', f0: 'abc', big: 2n ** 70n } },
      { rowNumber: 10, reason: 'row 10: no key', row: {} },
    ]);
    expect((await readFile(file, 'utf8')).split('\n')).toEqual([
      '{"jobId":"j1","chunk":3,"rowNumber":9,"key":"cust7","reason":"row 9: bad","row":{"id":"cust7","f0":"abc","big":"1180591620717411303424"}}',
      '{"jobId":"j1","chunk":3,"rowNumber":10,"reason":"row 10: no key","row":{}}',
      '',
    ]);
  });

  it('writes a row longer than the line limit as a preview with its length', () => {
    const line = JSON.parse(rejectLine('j', 0, { rowNumber: 1, reason: 'r', row: { a: 'x'.repeat(MAX_REJECT_LINE_CHARS) } })) as Record<string, unknown>;
    expect(line).toEqual({
      jobId: 'j',
      chunk: 0,
      rowNumber: 1,
      reason: 'r',
      rowJsonChars: MAX_REJECT_LINE_CHARS + 8,
      rowPreview: `{"a":"${'x'.repeat(4090)}`,
      rowOmitted: `the row's JSON is longer than ${MAX_REJECT_LINE_CHARS} characters; its start is in rowPreview`,
    });
  });

  it('appends a chunk whose lines pass the flush size in pieces, every line whole and in order', async () => {
    const file = path.join(dir, 'pieces.rejects.jsonl');
    // 12 lines just under the line limit: about 12 MiB of text, three pieces of FLUSH_CHARS (4 Mi).
    const near = 'z'.repeat(MAX_REJECT_LINE_CHARS - 200);
    const rows = Array.from({ length: 12 }, (_, i) => ({ rowNumber: i + 1, reason: `row ${i + 1}: bad`, row: { a: near } }));
    await appendRejects(file, 'j3', 5, rows);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { rowNumber: number; chunk: number; row: { a: string } });
    expect(lines.map((l) => [l.chunk, l.rowNumber, l.row.a.length])).toEqual(rows.map((r) => [5, r.rowNumber, near.length]));
  });

  // Issue 13 acceptance: 10,000 rejected CSV rows of 60 KB failed the job with "Invalid string
  // length" and wrote no reject (the chunk's lines were joined into one string beyond V8's
  // longest, ~2^29 characters). Three rows of 190 M characters (one shared string) do the same.
  it('writes a chunk whose rows together exceed the longest string', async () => {
    const file = path.join(dir, 'wide.rejects.jsonl');
    const wide = 'y'.repeat(190_000_000);
    const rows = [1, 2, 3].map((n) => ({ rowNumber: n, key: String(n), reason: `row ${n}: bad`, row: { id: String(n), a: wide } }));
    await appendRejects(file, 'j2', 0, rows);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.rowNumber, l.key, l.rowJsonChars])).toEqual([1, 2, 3].map((n) => [n, String(n), 190_000_000 + 17]));
  }, 60_000);
});
