// Connections that never sent a byte (a preconnecting browser or client pool, a TCP probe) are
// not idle to Node's server.close(): it would wait for them until the client gives up, since it
// also stops enforcing headersTimeout. Shutdown closes them when the listener closes.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Follows the server's open connections. `closeSilent()` destroys those that have received
 * nothing yet; call it after the listener closed and after one turn of the event loop, so that
 * bytes already arrived are counted. Costs one listener per connection, none per request.
 */
export function trackConnections(server: Server): { closeSilent(): number } {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return {
    closeSilent() {
      let closed = 0;
      for (const socket of open) {
        if (socket.bytesRead > 0) continue;
        socket.destroy();
        closed++;
      }
      return closed;
    },
  };
}
