// The reject file of a job: one JSON object per rejected row (job id, chunk, row number, key when
// known, the reason and the row itself), appended as chunks finish. Single-process and
// distributed runs write the same lines.
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { RejectedRow } from './chunk-processor.ts';

/** Appends a chunk's rejected rows to `file` (created with its folder when missing). */
export async function appendRejects(file: string, jobId: string, chunkIndex: number, rejected: readonly RejectedRow[]): Promise<void> {
  if (rejected.length === 0) return;
  let text = '';
  for (const r of rejected) {
    const line = { jobId, chunk: chunkIndex, rowNumber: r.rowNumber, ...(r.key === undefined ? {} : { key: r.key }), reason: r.reason, row: r.row };
    text += JSON.stringify(line, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n';
  }
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, text);
}
