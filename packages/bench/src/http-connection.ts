// One keep-alive HTTP/1.1 connection over a raw socket (net, or tls for https), carrying one
// request at a time (no pipelining). Measured faster than node:http's client with a keep-alive
// Agent (see bench/bench-tool-vs-wrk.md): a request is one write of prepared bytes, and a
// response is found by a minimal parser without building header objects or streams.
//
// Contract: send() only while idle (`busy` false). Exactly one completion callback follows each
// send(): with the status, or with a failure name (ECONNREFUSED, ECONNRESET, TIMEOUT,
// PROTOCOL, …). The callback runs synchronously inside the socket's event, so a driver may
// send() again from it. After a failure or a `Connection: close` response the socket is
// dropped and the next send() opens a new one.
import net from 'node:net';
import tls from 'node:tls';
import type { Endpoint } from './http-request.ts';
import { ProtocolError, ResponseParser } from './response-parser.ts';

/**
 * Called once per request. `status` is 0 when `failure` is set. `errorBody` holds the body of
 * responses with status ≥ 400 (up to 64 KiB). `connection` is idle again when this runs.
 */
export type Completion = (connection: HttpConnection, status: number, errorBody: Buffer | undefined, failure: string | undefined, failureMessage: string | undefined) => void;

/** Size of a read buffer: larger responses simply arrive in several reads. */
export const READ_BUFFER_BYTES = 64 * 1024;

export class HttpConnection {
  /** A request is outstanding. */
  busy = false;
  /** performance.now() when the current request was written. */
  startedAt = 0;
  /** Sockets opened so far (1 for a connection that was never dropped). */
  opened = 0;
  /** Free for the driver: which prepared request is outstanding. */
  tag = 0;
  /** Free for the driver: the time that decides whether the request counts (see Recorder). */
  windowAt = 0;
  private socket: net.Socket | undefined;
  private readonly parser = new ResponseParser();

  /**
   * @param readBuffer where reads land (plain http); may be shared by every connection of a
   *   thread, since each read is parsed synchronously before the next one can happen.
   */
  constructor(
    private readonly endpoint: Endpoint,
    private readonly onComplete: Completion,
    private readonly readBuffer: Buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES),
  ) {}

  /** Writes one prepared request. Precondition: !busy. Latency starts now. */
  send(bytes: Buffer): void {
    const socket = this.socket ?? this.open();
    this.busy = true;
    this.parser.reset();
    this.startedAt = performance.now();
    socket.write(bytes);
  }

  /** Fails the outstanding request (if any) with `failure` and drops the socket. */
  abort(failure: string, message: string): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
    if (this.busy) this.fail(failure, message);
  }

  /** Drops the socket without completing anything (end of run; call when idle). */
  close(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }

  private open(): net.Socket {
    const { host, port } = this.endpoint;
    let socket: net.Socket;
    if (this.endpoint.tls) {
      socket = tls.connect({ host, port, servername: net.isIP(host) === 0 ? host : undefined, ALPNProtocols: ['http/1.1'] });
      socket.on('data', (chunk: Buffer) => {
        if (socket === this.socket) this.onData(socket, chunk);
      });
    } else {
      // `onread` hands each read to the callback in a reused buffer, skipping the stream
      // machinery and a Buffer allocation per read (the parser copies what it keeps).
      const buffer = this.readBuffer;
      socket = net.connect({
        host,
        port,
        onread: {
          buffer,
          callback: (n: number) => {
            if (socket === this.socket) this.onData(socket, buffer.subarray(0, n));
            return true;
          },
        },
      });
    }
    socket.setNoDelay(true);
    this.socket = socket;
    this.opened++;
    // Handlers ignore events of a socket this connection has already dropped.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      socket.destroy();
      if (this.busy) this.fail(err.code ?? 'SOCKET_ERROR', err.message);
    });
    socket.on('close', () => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      if (!this.busy) return; // an idle keep-alive connection closed by the server: reopen on next send
      if (this.parser.finish()) this.succeed();
      else this.fail('ECONNRESET', 'the server closed the connection before the response was complete');
    });
    return socket;
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    if (!this.busy) {
      this.socket = undefined;
      socket.destroy();
      return;
    }
    let done: boolean;
    try {
      done = this.parser.execute(chunk);
    } catch (e) {
      this.socket = undefined;
      socket.destroy();
      this.fail('PROTOCOL', e instanceof ProtocolError ? e.message : String(e));
      return;
    }
    if (!done) return;
    if (!this.parser.keepAlive) {
      this.socket = undefined;
      socket.destroy();
    }
    this.succeed();
  }

  private succeed(): void {
    this.busy = false;
    const p = this.parser;
    this.onComplete(this, p.status, p.status >= 400 ? p.errorBody() : undefined, undefined, undefined);
  }

  private fail(failure: string, message: string): void {
    this.busy = false;
    this.onComplete(this, 0, undefined, failure, message);
  }
}
