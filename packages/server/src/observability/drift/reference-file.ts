// Reads a drift reference data file: CSV with a header row of feature names and one row of
// numbers per example (training data, say). Returns one column per feature.
import { readFile } from 'node:fs/promises';

export interface ReferenceData {
  names: string[];
  columns: Float64Array[];
}

const unquote = (cell: string): string => cell.trim().replace(/^"(.*)"$/, '$1');

/** @throws Error naming the file and line of a problem. */
export async function readReferenceCsv(file: string): Promise<ReferenceData> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the drift reference file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length < 2) throw new Error(`drift reference file ${file}: expected a header row and at least one row of data`);
  const names = lines[0]!.split(',').map(unquote);
  const columns = names.map(() => new Float64Array(lines.length - 1));
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i]!.split(',');
    if (cells.length !== names.length) throw new Error(`drift reference file ${file}, line ${i + 1}: ${cells.length} values, expected ${names.length} (one per header column)`);
    cells.forEach((cell, j) => {
      const value = Number(unquote(cell));
      // The message never quotes the cell: errors may reach an API caller, file contents may not.
      if (unquote(cell) === '' || !Number.isFinite(value)) throw new Error(`drift reference file ${file}, line ${i + 1}, column ${j + 1}: not a number; expected a number in every cell below the header`);
      columns[j]![i - 1] = value;
    });
  }
  return { names, columns };
}
