// Noticing clients that go away. One 'close' listener per connection (not per request) cancels
// the requests still in flight on it, so their queued work is dropped instead of run.
import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { CancelToken } from '../../serving/frontend-vocabulary.ts';

const IN_FLIGHT = Symbol('sibyl.inFlight');
type WatchedSocket = Socket & { [IN_FLIGHT]?: Set<CancelToken> };

/** A token cancelled if the request's connection closes before unwatchConnection(). */
export function watchConnection(request: FastifyRequest): CancelToken {
  const token = new CancelToken();
  const socket = request.raw.socket as WatchedSocket | undefined;
  if (socket === undefined || typeof socket.once !== 'function') return token; // in-process (inject)
  let tokens = socket[IN_FLIGHT];
  if (tokens === undefined) {
    const set = new Set<CancelToken>();
    tokens = socket[IN_FLIGHT] = set;
    socket.once('close', () => {
      for (const t of set) t.cancel();
      set.clear();
    });
  }
  tokens.add(token);
  return token;
}

/** The request was answered (or failed): its connection closing no longer concerns it. */
export function unwatchConnection(request: FastifyRequest, token: CancelToken): void {
  (request.raw.socket as WatchedSocket | undefined)?.[IN_FLIGHT]?.delete(token);
}
