// The minimal HTTP/1.1 response parser: framing by Content-Length, chunked and close, split
// reads, interim responses, error bodies, and what it refuses.
import { describe, expect, it } from 'vitest';
import { ProtocolError, ResponseParser } from '../src/response-parser.ts';

/** Feeds `text` in pieces of `step` bytes; returns the parser and after which piece it completed. */
function feed(text: string, step: number): { parser: ResponseParser; completedAt: number; pieces: number } {
  const bytes = Buffer.from(text, 'latin1');
  const parser = new ResponseParser();
  let completedAt = -1;
  let pieces = 0;
  for (let i = 0; i < bytes.length; i += step) {
    const done = parser.execute(bytes.subarray(i, Math.min(bytes.length, i + step)));
    pieces++;
    if (done) completedAt = pieces;
  }
  return { parser, completedAt, pieces };
}

const JSON_200 = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"outputs":1}';

describe('response parser', () => {
  it.each([1, 2, 7, 1000])('completes a Content-Length response exactly at its last byte (reads of %i bytes)', (step) => {
    const { parser, completedAt, pieces } = feed(JSON_200, step);
    expect(completedAt).toBe(pieces);
    expect(parser.status).toBe(200);
    expect(parser.keepAlive).toBe(true);
    expect(parser.errorBody()).toBeUndefined();
  });

  it('keeps the body of error responses, for their reason', () => {
    const body = '{"error":"queue full","reason":"QUEUE_FULL"}';
    const { parser, completedAt } = feed(`HTTP/1.1 503 Service Unavailable\r\ncontent-length: ${body.length}\r\n\r\n${body}`, 5);
    expect(completedAt).toBeGreaterThan(0);
    expect(parser.status).toBe(503);
    expect(parser.errorBody()!.toString()).toBe(body);
  });

  it.each([1, 3, 64])('decodes chunked bodies with extensions and trailers (reads of %i bytes)', (step) => {
    const text = 'HTTP/1.1 500 Internal\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n';
    const { parser, completedAt, pieces } = feed(text, step);
    expect(completedAt).toBe(pieces);
    expect(parser.errorBody()!.toString()).toBe('hello world');
  });

  it('reads a body without length until the connection closes, and does not keep the connection', () => {
    const parser = new ResponseParser();
    expect(parser.execute(Buffer.from('HTTP/1.0 200 OK\r\n\r\npartial'))).toBe(false);
    expect(parser.keepAlive).toBe(false);
    expect(parser.finish()).toBe(true);
    expect(parser.status).toBe(200);
  });

  it('honours Connection: close and HTTP/1.0 keep-alive', () => {
    expect(feed('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', 100).parser.keepAlive).toBe(false);
    expect(feed('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n', 100).parser.keepAlive).toBe(true);
  });

  it('skips 100 Continue and treats 204 as bodiless', () => {
    const { parser, completedAt } = feed('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n', 4);
    expect(completedAt).toBeGreaterThan(0);
    expect(parser.status).toBe(204);
  });

  it('is reusable after reset()', () => {
    const parser = new ResponseParser();
    expect(parser.execute(Buffer.from(JSON_200))).toBe(true);
    parser.reset();
    expect(parser.execute(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}'))).toBe(true);
    expect(parser.status).toBe(404);
  });

  it('does not keep a reference to a read buffer the caller reuses', () => {
    const parser = new ResponseParser();
    const buffer = Buffer.from('HTTP/1.1 200 OK\r\nContent-Le');
    expect(parser.execute(buffer)).toBe(false);
    buffer.fill(0x41); // the socket reuses its buffer for the next read
    expect(parser.execute(Buffer.from('ngth: 2\r\n\r\nok'))).toBe(true);
    expect(parser.status).toBe(200);
  });

  it.each([
    ['a non-HTTP status line', 'SSH-2.0-OpenSSH\r\n\r\n', /HTTP\/1\.x status line/],
    ['a bad Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n', /Content-Length/],
    ['bytes after the response', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA', /unexpected bytes/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /chunk size/],
  ])('refuses %s', (_what, text, message) => {
    const parser = new ResponseParser();
    expect(() => parser.execute(Buffer.from(text, 'latin1'))).toThrow(ProtocolError);
    const again = new ResponseParser();
    expect(() => again.execute(Buffer.from(text, 'latin1'))).toThrow(message);
  });
});
