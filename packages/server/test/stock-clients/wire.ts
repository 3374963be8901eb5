// Raw HTTP/1.1 over a TCP socket, for replaying stock clients byte for byte: the request is
// written exactly as given (request line, header lines in the client's order and spelling,
// body), and the response is read off the socket with a minimal parser (Content-Length,
// chunked, or read-to-close). No Node HTTP client sits in between, so no header is added,
// reordered or re-cased on our side.
import { connect } from 'node:net';

export interface WireResponse {
  status: number;
  reason: string;
  /** Header lines as received (name spelling kept), in order. */
  rawHeaders: [string, string][];
  /** Raw body bytes as received (still compressed if Content-Encoding says so). */
  body: Buffer;
  /** The exact bytes that were sent. */
  sent: Buffer;
  /** Case-insensitive header lookup (HTTP header names are case-insensitive). */
  header(name: string): string | undefined;
}

/** One request line + headers (in order) + body, as a client library serialises it. */
export function buildRequest(method: string, target: string, headers: readonly (readonly [string, string])[], body?: Uint8Array): Buffer {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  head += '\r\n';
  const headBytes = Buffer.from(head, 'latin1');
  return body === undefined || body.length === 0 ? headBytes : Buffer.concat([headBytes, body]);
}

/** Sends `request` on a fresh connection to 127.0.0.1:`port` and reads one response. */
export function exchange(port: number, request: Buffer, method: string): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined, res?: WireResponse): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolve(res!);
    };
    const tryParse = (closed: boolean): void => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) {
        if (closed) finish(new Error(`connection closed before the end of the response headers; got ${JSON.stringify(received.toString('latin1'))}`));
        return;
      }
      const lines = received.subarray(0, end).toString('latin1').split('\r\n');
      const statusLine = lines[0]!;
      const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
      if (m === null) return finish(new Error(`bad status line ${JSON.stringify(statusLine)}`));
      const status = Number(m[1]);
      // Interim 1xx responses are skipped (none is expected: no Expect: 100-continue is sent).
      if (status >= 100 && status < 200) {
        received = received.subarray(end + 4);
        return tryParse(closed);
      }
      const rawHeaders: [string, string][] = lines.slice(1).map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon), line.slice(colon + 1).trim()];
      });
      const header = (name: string): string | undefined => {
        const found = rawHeaders.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
        return found.length === 0 ? undefined : found.join(', ');
      };
      const rest = received.subarray(end + 4);
      const done = (body: Buffer): void => finish(undefined, { status, reason: m[2] ?? '', rawHeaders, body, sent: request, header });
      if (method === 'HEAD' || status === 204 || status === 304) return done(Buffer.alloc(0));
      if ((header('transfer-encoding') ?? '').toLowerCase().includes('chunked')) {
        const chunks: Buffer[] = [];
        let p = 0;
        for (;;) {
          const lineEnd = rest.indexOf('\r\n', p);
          if (lineEnd < 0) break;
          const size = parseInt(rest.subarray(p, lineEnd).toString('latin1').split(';')[0]!, 16);
          if (Number.isNaN(size)) return finish(new Error('bad chunk size'));
          if (size === 0) return done(Buffer.concat(chunks));
          if (rest.length < lineEnd + 2 + size + 2) break;
          chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
          p = lineEnd + 2 + size + 2;
        }
        if (closed) finish(new Error('connection closed inside a chunked body'));
        return;
      }
      const length = header('content-length');
      if (length !== undefined) {
        const n = Number(length);
        if (rest.length >= n) return done(Buffer.from(rest.subarray(0, n)));
        if (closed) finish(new Error(`connection closed after ${rest.length} of ${n} body bytes`));
        return;
      }
      if (closed) done(Buffer.from(rest));
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('error', (err) => finish(err));
    socket.setTimeout(20_000, () => finish(new Error('no complete response within 20 s')));
    socket.write(request);
  });
}
