// Compressed request bodies (tritonclient's request_compression_algorithm): gzip and deflate are
// inflated before parsing; the body limit applies to the inflated bytes. Other encodings: 415.
import { createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { SibylError } from '@sibyl/protocol';
import type { FastifyRequest } from 'fastify';

/** The body stream to parse: `payload` itself, or an inflating stream over it. */
export async function inflateRequestBody(request: FastifyRequest, payload: Readable): Promise<Readable> {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding === undefined || encoding === '' || encoding === 'identity') return payload;
  let inflater;
  if (encoding === 'gzip' || encoding === 'x-gzip') inflater = createGunzip();
  else if (encoding === 'deflate') inflater = createInflate();
  else {
    throw new SibylError('UNSUPPORTED_CONTENT_ENCODING', `Content-Encoding '${encoding}' is not supported; send gzip, deflate or an uncompressed body`);
  }
  // Fastify compares the bytes received with Content-Length through this property.
  const inflated = inflater as typeof inflater & { receivedEncodedLength: number };
  inflated.receivedEncodedLength = 0;
  payload.on('data', (chunk: Buffer) => (inflated.receivedEncodedLength += chunk.length));
  payload.on('error', (err) => inflated.destroy(err));
  // A corrupt compressed body makes the inflater emit 'error'. The body reader listens while it
  // reads; this listener stays for when nothing does (a route that reads no body, a reader that
  // has already refused it): without it the error would be unhandled and end the process.
  inflated.on('error', ignoreInflateError);
  return payload.pipe(inflated);
}

function ignoreInflateError(): void {
  // Reported by the body reader when it is listening; nothing else to do.
}
