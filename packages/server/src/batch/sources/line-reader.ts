// The lines of a file, read in blocks with a bound on a line's length: memory holds a block and
// the unfinished line, never more than `maxLineBytes` plus a block, whatever the file holds (a
// file of one endless line fails at the limit instead of being buffered whole, as readline does).
import type { FileHandle } from 'node:fs/promises';

const BLOCK_BYTES = 1024 * 1024;
const LF = 10;
const CR = 13;

/**
 * Every line of the file in order, decoded as UTF-8, without its line end (LF or CRLF; a UTF-8
 * BOM at the start is dropped); the last line need not end with one. Calls `tooLong(lineNumber)`
 * (1-based) and throws what it returns when a line holds more than `maxLineBytes` bytes. The
 * caller owns (and closes) the handle.
 */
export async function* readLines(handle: FileHandle, maxLineBytes: number, tooLong: (lineNumber: number) => Error, blockBytes = BLOCK_BYTES): AsyncGenerator<string> {
  /** The unfinished line's bytes from earlier blocks. */
  let pieces: Buffer[] = [];
  let piecesBytes = 0;
  let lineNumber = 1;
  let first = true;
  const line = (tail: Buffer): string => {
    let bytes = pieces.length === 0 ? tail : Buffer.concat([...pieces, tail], piecesBytes + tail.length);
    pieces = [];
    piecesBytes = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    if (first && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    first = false;
    return bytes.toString('utf8');
  };
  for (;;) {
    const buffer = Buffer.allocUnsafe(blockBytes);
    const { bytesRead } = await handle.read(buffer, 0, blockBytes, null);
    if (bytesRead === 0) break;
    const block = buffer.subarray(0, bytesRead);
    let start = 0;
    for (;;) {
      const lf = block.indexOf(LF, start);
      if (lf < 0) break;
      // The line end (LF) is not counted; a CR before it is.
      if (piecesBytes + (lf - start) > maxLineBytes) throw tooLong(lineNumber);
      yield line(block.subarray(start, lf));
      lineNumber++;
      start = lf + 1;
    }
    if (start < bytesRead) {
      pieces.push(block.subarray(start, bytesRead));
      piecesBytes += bytesRead - start;
      if (piecesBytes > maxLineBytes) throw tooLong(lineNumber);
    }
  }
  if (piecesBytes > 0) yield line(Buffer.alloc(0));
}
