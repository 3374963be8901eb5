// Cross-origin calls from web pages (the browser client): allowed only for the configured
// origins. Browsers may send and read the binary tensor data extension's header and read
// Retry-After, so clients in a page get the same protocol as anywhere else.
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/** Allows the HTTP API to be called from pages of `origins` (`*`: any); none: no CORS headers at all. */
export function allowOrigins(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  void app.register(cors, {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'POST'],
    allowedHeaders: ['content-type', 'content-encoding', 'inference-header-content-length', 'x-request-id', 'authorization', 'x-api-key'],
    exposedHeaders: ['inference-header-content-length', 'retry-after', 'x-request-id'],
    maxAge: 600,
  });
}
