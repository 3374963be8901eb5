// An incremental parser for one HTTP/1.1 response at a time, as small as the bench needs: the
// status, whether the connection stays open, where the response ends (Content-Length, chunked
// or close-delimited), and the body of error responses (for their `reason`). Bodies of
// successful responses are skipped, not copied. Not a general-purpose HTTP parser: no
// pipelining (bytes after the response are an error), 1xx responses are skipped.

/** The response does not follow HTTP/1.1 closely enough to find its end. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** Error bodies are kept up to this size (enough for any JSON error document). */
const MAX_ERROR_BODY = 64 * 1024;
/** A response head larger than this is refused (a guard against a runaway peer). */
const MAX_HEAD = 64 * 1024;

/** Parser states (numbers, compared on every chunk). */
const State = {
  Head: 0,
  Length: 1,
  ChunkSize: 2,
  ChunkData: 3,
  ChunkDataEnd: 4,
  Trailers: 5,
  UntilClose: 6,
  Done: 7,
} as const;
type State = (typeof State)[keyof typeof State];

export class ResponseParser {
  /** The status code of the current (or last) response. */
  status = 0;
  /** Whether the connection may carry another request after this response. */
  keepAlive = true;
  private state: State = State.Head;
  private head: Buffer | undefined;
  private remaining = 0;
  private line = '';
  private body: Buffer[] | undefined;
  private bodyBytes = 0;

  /** Prepares for the next response on the same connection. */
  reset(): void {
    this.status = 0;
    this.keepAlive = true;
    this.state = State.Head;
    this.head = undefined;
    this.remaining = 0;
    this.line = '';
    this.body = undefined;
    this.bodyBytes = 0;
  }

  /** The body so far when the status is ≥ 400 (truncated to 64 KiB); undefined otherwise. */
  errorBody(): Buffer | undefined {
    const b = this.body;
    if (b === undefined) return undefined;
    return b.length === 1 ? b[0] : Buffer.concat(b);
  }

  /**
   * Consumes `chunk`. Returns true when the response is complete (the chunk must end exactly
   * there), false when more bytes are needed. Throws ProtocolError for malformed responses.
   * Keeps no reference to `chunk` (what it needs later it copies), so the caller may reuse it.
   */
  execute(chunk: Buffer): boolean {
    let pos = 0;
    while (pos < chunk.length) {
      switch (this.state) {
        case State.Head: {
          let buf = chunk;
          let from = pos;
          if (this.head !== undefined) {
            buf = Buffer.concat([this.head, chunk.subarray(pos)]);
            from = 0;
          }
          const end = buf.indexOf(CRLFCRLF, from);
          if (end === -1) {
            if (buf.length - from > MAX_HEAD) throw new ProtocolError(`response head longer than ${MAX_HEAD} bytes`);
            // Copy: `chunk` may be a read buffer the socket reuses.
            this.head = buf === chunk ? Buffer.from(chunk.subarray(from)) : buf;
            return false;
          }
          // Offset in `chunk` just past the head.
          const consumedFromChunk = this.head === undefined ? end + 4 - pos : end + 4 - this.head.length;
          this.head = undefined;
          this.parseHead(buf, from, end);
          pos += consumedFromChunk;
          break;
        }
        case State.Length: {
          const n = Math.min(this.remaining, chunk.length - pos);
          this.keep(chunk, pos, pos + n);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.state = State.Done;
          break;
        }
        case State.UntilClose:
          this.keep(chunk, pos, chunk.length);
          return false;
        case State.ChunkSize:
        case State.Trailers:
        case State.ChunkDataEnd: {
          const nl = chunk.indexOf(10, pos);
          const stop = nl === -1 ? chunk.length : nl;
          this.line += chunk.toString('latin1', pos, stop);
          if (this.line.length > 4096) throw new ProtocolError('chunked encoding line longer than 4096 bytes');
          if (nl === -1) return false;
          pos = nl + 1;
          const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
          this.line = '';
          this.onLine(line);
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, chunk.length - pos);
          this.keep(chunk, pos, pos + n);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        }
        case State.Done:
          throw new ProtocolError(`${chunk.length - pos} unexpected bytes after the response`);
      }
      if (this.state === State.Done) {
        if (pos !== chunk.length) throw new ProtocolError(`${chunk.length - pos} unexpected bytes after the response`);
        return true;
      }
    }
    return this.state === State.Done;
  }

  /** The peer closed the connection: true if that ends a close-delimited response. */
  finish(): boolean {
    if (this.state === State.UntilClose) {
      this.state = State.Done;
      return true;
    }
    return this.state === State.Done;
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    const body = this.body;
    if (body === undefined || to <= from || this.bodyBytes >= MAX_ERROR_BODY) return;
    const take = Math.min(to - from, MAX_ERROR_BODY - this.bodyBytes);
    body.push(Buffer.from(chunk.subarray(from, from + take)));
    this.bodyBytes += take;
  }

  private onLine(line: string): void {
    if (this.state === State.ChunkDataEnd) {
      if (line !== '') throw new ProtocolError('chunk data not followed by CRLF');
      this.state = State.ChunkSize;
    } else if (this.state === State.ChunkSize) {
      const semicolon = line.indexOf(';');
      const hex = (semicolon === -1 ? line : line.slice(0, semicolon)).trim();
      if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new ProtocolError(`bad chunk size line '${line.slice(0, 40)}'`);
      this.remaining = parseInt(hex, 16);
      this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
    } else if (line === '') {
      this.state = State.Done; // end of trailers
    }
  }

  /** Parses the head buf[from, end) (without the final CRLFCRLF) and picks the body framing. */
  private parseHead(buf: Buffer, from: number, end: number): void {
    // "HTTP/1.x SSS …"
    if (end - from < 12 || buf.toString('latin1', from, from + 7) !== 'HTTP/1.') {
      throw new ProtocolError(`response does not start with an HTTP/1.x status line: '${buf.toString('latin1', from, Math.min(end, from + 40))}'`);
    }
    const d0 = buf[from + 9]! - 48;
    const d1 = buf[from + 10]! - 48;
    const d2 = buf[from + 11]! - 48;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) throw new ProtocolError('bad status code in the status line');
    const status = d0 * 100 + d1 * 10 + d2;
    const http10 = buf[from + 7] === 48; // '0'
    let keepAlive = !http10;
    let length = -1;
    let chunked = false;
    const text = buf.toString('latin1', from, end);
    let lineStart = text.indexOf('\r\n') + 2;
    while (lineStart > 1 && lineStart < text.length) {
      let lineEnd = text.indexOf('\r\n', lineStart);
      if (lineEnd === -1) lineEnd = text.length;
      const colon = text.indexOf(':', lineStart);
      if (colon !== -1 && colon < lineEnd) {
        // Only the three framing headers matter; compare names by length first (cheap).
        const nameLength = colon - lineStart;
        if (nameLength === 14 || nameLength === 17 || nameLength === 10) {
          const name = text.slice(lineStart, colon).toLowerCase();
          const value = text.slice(colon + 1, lineEnd).trim();
          if (name === 'content-length') {
            if (!/^\d+$/.test(value)) throw new ProtocolError(`bad Content-Length '${value}'`);
            length = Number(value);
          } else if (name === 'transfer-encoding') {
            chunked = value.toLowerCase().split(',').pop()!.trim() === 'chunked';
          } else if (name === 'connection') {
            const v = value.toLowerCase();
            if (v.includes('close')) keepAlive = false;
            else if (v.includes('keep-alive')) keepAlive = true;
          }
        }
      }
      lineStart = lineEnd + 2;
    }
    if (status < 200) return; // 1xx: an interim response; the real one follows (state stays Head)
    this.status = status;
    this.keepAlive = keepAlive;
    if (status >= 400) this.body = [];
    if (status === 204 || status === 304) this.state = State.Done;
    else if (chunked) this.state = State.ChunkSize;
    else if (length >= 0) {
      this.remaining = length;
      this.state = length === 0 ? State.Done : State.Length;
    } else {
      this.keepAlive = false;
      this.state = State.UntilClose;
    }
  }
}
