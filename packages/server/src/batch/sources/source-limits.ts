// The limits every batch source enforces, so that one bad file cannot grow the process without
// bound: a record (a CSV row, a JSON Lines line, a SQL row) may hold at most `maxRecordBytes`,
// and a source is a regular file (a device such as /dev/zero, a FIFO or a directory never ends
// or never answers). Imports nothing but node and the protocol's error type: the CSV scanner's
// worker bundles it.
import { constants, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { SibylError } from '@sibyl/protocol';

/** Default of a job's `maxRecordBytes`: 8 MiB per record. */
export const DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024;
/** Default of a job's `maxRowGroupBytes`: 512 MiB of a Parquet row group's columns that the job reads (uncompressed). */
export const DEFAULT_MAX_ROW_GROUP_BYTES = 512 * 1024 * 1024;

/** The error of a record over the limit: names the source, the record and the limit. */
export function recordTooLarge(source: string, record: string, limitBytes: number): SibylError {
  return new SibylError(
    'BATCH_SOURCE_INVALID',
    `${source}: ${record} is longer than maxRecordBytes (${limitBytes} bytes); expected records of at most that size — raise maxRecordBytes in the job spec if such records are meant, or check the file's format (a binary file, a wrong delimiter or a quote never closed makes one endless record)`,
  );
}

function kindOf(stats: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens `file` for reading when it is a regular file. Opened non-blocking, so that a FIFO
 * without a writer does not hold the open forever, then checked on the open handle (no race
 * with a file replaced in between). `what` names the source in errors ('the CSV source').
 * @throws SibylError BATCH_SOURCE_INVALID: not found, unreadable, or not a regular file.
 */
export async function openRegularFile(file: string, what: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SibylError('BATCH_SOURCE_INVALID', `cannot read ${what} ${file}: ${code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new SibylError('BATCH_SOURCE_INVALID', `${what} ${file} is ${kindOf(stats)}; expected a regular file`);
  } catch (err) {
    await handle.close().catch(() => undefined);
    if (err instanceof SibylError) throw err;
    throw new SibylError('BATCH_SOURCE_INVALID', `cannot read ${what} ${file}: ${(err as Error).message}`);
  }
  return handle;
}

/**
 * Refuses a path that exists and is not a regular file (a device, a FIFO, a directory), without
 * opening it (stat does not block on a FIFO, where open may); a missing file passes (the reader
 * says so when it reads). Synchronous, for callers that open synchronously (SQLite) and for a
 * job's check before it starts. @throws SibylError BATCH_SOURCE_INVALID.
 */
export function refuseSpecialFile(file: string, what: string): void {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    return;
  }
  if (!stats.isFile()) throw new SibylError('BATCH_SOURCE_INVALID', `${what} ${file} is ${kindOf(stats)}; expected a regular file`);
}
