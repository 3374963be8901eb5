import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../../testing/index.ts';
import { readReferenceCsv } from './reference-file.ts';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('sibyl-reference-');
});
afterAll(async () => {
  await removeDir(dir);
});

describe('readReferenceCsv', () => {
  it('reads one column per feature', async () => {
    const file = path.join(dir, 'ok.csv');
    await writeFile(file, 'a,b\n1,2\n3,4\n');
    const data = await readReferenceCsv(file);
    expect(data.names).toEqual(['a', 'b']);
    expect(data.columns.map((c) => [...c])).toEqual([[1, 3], [2, 4]]);
  });

  it('names the line and column of a bad cell without quoting it (errors may reach an API caller)', async () => {
    const file = path.join(dir, 'bad.csv');
    await writeFile(file, 'a,b\n1,2\n3,hunter2-SECRET\n');
    const error = await readReferenceCsv(file).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(`drift reference file ${file}, line 3, column 2: not a number; expected a number in every cell below the header`);
  });
});
