// A chunk crosses Redis as JSON and comes back as the same values: numbers exactly (doubles
// survive JSON), texts where the source kept text, 64-bit integers as their decimal text.
import { describe, expect, it } from 'vitest';
import type { ChunkColumns, SourceChunk } from '../source.ts';
import { chunkIndexOf, chunkItemId, chunkQueueName, decodeChunk, encodeChunk, type ChunkMessage } from './chunk-queue.ts';

const wire = (m: ChunkMessage): ChunkMessage => JSON.parse(JSON.stringify(m)) as ChunkMessage;

function columnChunk(): SourceChunk {
  const data: Record<string, { numbers: number[]; texts: (string | undefined)[] }> = {
    id: { numbers: [NaN, NaN, NaN], texts: ['007', 'b', 'c'] },
    x: { numbers: [0.1 + 0.2, -1e-7, NaN], texts: [undefined, undefined, ''] },
    y: { numbers: [1 / 3, NaN, 2 ** 52 + 1], texts: [undefined, 'n/a', undefined] },
  };
  const columns: ChunkColumns = { rowCount: 3, get: (name) => (data[name] === undefined ? undefined : { numbers: Float64Array.from(data[name]!.numbers), texts: data[name]!.texts }) };
  return { index: 4, firstRowNumber: 42, columns, rows: [] };
}

describe('chunk messages', () => {
  it('carry columns as numbers and texts, back exactly', () => {
    const message = wire(encodeChunk('job-1', columnChunk(), ['id', 'x', 'y', 'absent']));
    expect(message).toMatchObject({ jobId: 'job-1', index: 4, firstRowNumber: 42, rowCount: 3 });
    expect(Object.keys(message.columns!)).toEqual(['id', 'x', 'y']);
    const chunk = decodeChunk(message);
    expect(chunk).toMatchObject({ index: 4, firstRowNumber: 42 });
    const x = chunk.columns!.get('x')!;
    expect([...x.numbers.slice(0, 2)]).toEqual([0.1 + 0.2, -1e-7]);
    expect(Number.isNaN(x.numbers[2])).toBe(true);
    expect(x.texts[2]).toBe('');
    const y = chunk.columns!.get('y')!;
    expect(y.numbers[0]).toBe(1 / 3);
    expect(y.numbers[2]).toBe(2 ** 52 + 1);
    expect(y.texts[1]).toBe('n/a');
    expect(chunk.columns!.get('id')!.texts).toEqual(['007', 'b', 'c']);
    expect(chunk.columns!.get('absent')).toBeUndefined();
    // Rows (what reject records show) read as the CSV source's: each value as CSV spells it.
    expect(chunk.rows).toEqual([
      { id: '007', x: String(0.1 + 0.2), y: String(1 / 3) },
      { id: 'b', x: '-1e-7', y: 'n/a' },
      { id: 'c', x: '', y: String(2 ** 52 + 1) },
    ]);
  });

  it('carry row objects, with 64-bit integers as decimal text', () => {
    const rows = [{ id: 1n << 60n, v: [1, 2], s: 'x' }, { id: 5n, v: null, s: '' }];
    const chunk = decodeChunk(wire(encodeChunk('j', { index: 0, firstRowNumber: 1, rows }, ['id', 'v', 's'])));
    expect(chunk.columns).toBeUndefined();
    expect(chunk.rows).toEqual([{ id: '1152921504606846976', v: [1, 2], s: 'x' }, { id: '5', v: null, s: '' }]);
  });

  it('name queues and items so BullMQ takes them', () => {
    expect(chunkQueueName('20260104T020000-1a2b3c')).toBe('sibyl-batch-20260104T020000-1a2b3c');
    expect(chunkQueueName('a:b c')).toBe('sibyl-batch-a%3ab%20c');
    expect(chunkIndexOf(chunkItemId(17))).toBe(17);
    expect(chunkIndexOf('repeat:17')).toBeUndefined();
  });
});
