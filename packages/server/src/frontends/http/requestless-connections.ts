// Connections with no request in progress that Node's server.close() does not count as idle: one
// that never sent a byte (a preconnecting browser or client pool, a TCP probe) and one whose
// request's headers never ended (a stalled or slowloris client). Node would wait for them until
// the client gives up, since it also stops enforcing headersTimeout once the server closes: they
// would hold the drain to drainTimeoutMs. Shutdown closes them when the listener closes.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Node's private link from a socket to the response in progress on it (set once a request's headers ended). */
type ResponseSocket = Socket & { _httpMessage?: unknown };

/**
 * Follows the server's open connections. `closeWithoutRequest()` destroys those with no response
 * in progress (no request whose headers have all arrived); call it after the listener closed and
 * after one turn of the event loop, so that bytes already arrived are parsed. Idle keep-alive
 * connections are Node's to close (they have none either). Costs one listener per connection,
 * none per request.
 */
export function trackConnections(server: Server): { closeWithoutRequest(): number } {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return {
    closeWithoutRequest() {
      let closed = 0;
      for (const socket of open) {
        if ((socket as ResponseSocket)._httpMessage != null) continue;
        socket.destroy();
        closed++;
      }
      return closed;
    },
  };
}
