// The reject file of a job: one JSON object per rejected row (job id, chunk, row number, key when
// known, the reason and the row itself), appended as chunks finish. Single-process and
// distributed runs write the same lines.
//
// Bounded whatever the rows: a line is at most MAX_REJECT_LINE_CHARS (a longer row is written as
// a preview with its length), and a chunk's lines are appended in pieces of about FLUSH_CHARS.
// Before, a chunk's lines were joined into one string, so 10,000 rejected rows of 60 KB (or one
// row of 300 MB under a raised maxRecordBytes) passed V8's longest string and failed the job
// with a bare "Invalid string length", writing no reject at all.
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { RejectedRow } from './chunk-processor.ts';

/** Longest line written for one rejected row; a longer row is replaced by a preview. */
export const MAX_REJECT_LINE_CHARS = 1 << 20;
/** Characters of a too-long row's JSON kept in its line's `rowPreview`. */
const PREVIEW_CHARS = 4096;
/** Characters gathered before they are appended to the file. */
const FLUSH_CHARS = 1 << 22;

const replacer = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);

/**
 * The line of one rejected row: its JSON, or, when the row's JSON is longer than
 * MAX_REJECT_LINE_CHARS (or than a string can hold), the same fields with `row` replaced by
 * `rowJsonChars` (its length, null when unknown) and `rowPreview` (its start).
 */
export function rejectLine(jobId: string, chunkIndex: number, r: RejectedRow): string {
  const head = { jobId, chunk: chunkIndex, rowNumber: r.rowNumber, ...(r.key === undefined ? {} : { key: r.key }), reason: r.reason };
  let rowJson: string | undefined;
  try {
    rowJson = JSON.stringify(r.row, replacer);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  const line = rowJson === undefined ? undefined : `${JSON.stringify(head, replacer).slice(0, -1)},"row":${rowJson}}`;
  if (line !== undefined && line.length <= MAX_REJECT_LINE_CHARS) return line;
  return JSON.stringify({
    ...head,
    rowJsonChars: rowJson?.length ?? null,
    rowPreview: rowJson?.slice(0, PREVIEW_CHARS) ?? null,
    rowOmitted: `the row's JSON is longer than ${MAX_REJECT_LINE_CHARS} characters; its start is in rowPreview`,
  });
}

/** Appends a chunk's rejected rows to `file` (created with its folder when missing). */
export async function appendRejects(file: string, jobId: string, chunkIndex: number, rejected: readonly RejectedRow[]): Promise<void> {
  if (rejected.length === 0) return;
  await mkdir(path.dirname(file), { recursive: true });
  let text = '';
  for (const r of rejected) {
    text += rejectLine(jobId, chunkIndex, r) + '\n';
    if (text.length >= FLUSH_CHARS) {
      await appendFile(file, text);
      text = '';
    }
  }
  if (text !== '') await appendFile(file, text);
}
