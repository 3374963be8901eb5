// A TCP proxy the fault tests control, in front of a shared service (Redis, PostgreSQL). cut()
// resets every connection and every new one, as a service that went down would; stall() stops
// moving bytes both ways and holds new connections unanswered, as a network partition or a hung
// server would; restore() forwards again (stalled bytes flow on). The shared service itself is
// never stopped, so other tests using it are not disturbed.
import net from 'node:net';

export interface FaultProxy {
  /** The port to connect to instead of the service's (on 127.0.0.1). */
  readonly port: number;
  /** Resets open connections and every new one until restore(). */
  cut(): void;
  /** Stops forwarding on open connections and holds new ones unanswered until restore(). */
  stall(): void;
  restore(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let mode: 'up' | 'cut' | 'stalled' = 'up';
  const connect = (pair: Pair): void => {
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('error', () => end(pair)).on('close', () => end(pair));
    pair.client.pipe(upstream);
    upstream.pipe(pair.client);
  };
  const end = (pair: Pair): void => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };
  const server = net.createServer((client) => {
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined };
    pairs.add(pair);
    client.on('error', () => end(pair)).on('close', () => end(pair));
    if (mode === 'up') connect(pair);
    else client.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const cut = (): void => {
    mode = 'cut';
    for (const pair of [...pairs]) {
      pair.client.resetAndDestroy();
      pair.upstream?.destroy();
      pairs.delete(pair);
    }
  };
  return {
    port,
    cut,
    stall() {
      mode = 'stalled';
      for (const { client, upstream } of pairs) {
        client.unpipe();
        upstream?.unpipe();
        client.pause();
        upstream?.pause();
      }
    },
    restore() {
      const was = mode;
      mode = 'up';
      if (was !== 'stalled') return;
      for (const pair of pairs) {
        if (pair.upstream === undefined) connect(pair);
        else {
          pair.client.pipe(pair.upstream);
          pair.upstream.pipe(pair.client);
        }
      }
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
