// A TCP server on 127.0.0.1 (port 0) that accepts connections, reads what clients send and never
// answers: the far end of a network peer that hangs (a PostgreSQL or Redis that never speaks).
import net from 'node:net';

export class SilentServer {
  /** The sockets open now. */
  readonly sockets = new Set<net.Socket>();
  private waiting: (() => void)[] = [];
  private constructor(private readonly server: net.Server) {}

  static async start(): Promise<SilentServer> {
    const server = net.createServer();
    const silent = new SilentServer(server);
    server.on('connection', (socket) => {
      silent.sockets.add(socket);
      socket.on('close', () => silent.sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.resume(); // reads (and drops) what clients send, answers nothing
      for (const resolve of silent.waiting.splice(0)) resolve();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return silent;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Resolves at the next connection. */
  nextConnection(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Resolves once a client is connected (at once if one is now). */
  connected(): Promise<void> {
    return this.sockets.size > 0 ? Promise.resolve() : this.nextConnection();
  }

  /** Resolves once every socket the clients opened is closed. */
  async clientsGone(): Promise<void> {
    while (this.sockets.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Closes the open sockets and the listener. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
