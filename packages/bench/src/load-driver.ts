// What the closed-loop and open-loop drivers share: their inputs, their interface, and the
// timeout sweep. A driver owns its connections; it records every send and completion in the
// recorder it is given and never throws for a failed request.
import type { HttpConnection } from './http-connection.ts';
import type { Endpoint, PreparedRequest } from './http-request.ts';
import type { Recorder } from './recorder.ts';

export interface LoadTarget {
  readonly endpoint: Endpoint;
  /** Prepared requests, sent round-robin. Non-empty. */
  readonly requests: readonly PreparedRequest[];
  readonly recorder: Recorder;
  /** A request without a full response after this long fails with TIMEOUT. */
  readonly timeoutMs: number;
  /** Round-robin position of this driver's first request (threads start at different ones). */
  readonly firstRequest?: number;
}

export interface LoadDriver {
  /** Starts sending. Call once. */
  start(): void;
  /**
   * Stops sending new requests and resolves once every outstanding request has completed,
   * failed or timed out; then closes the connections.
   */
  stop(): Promise<void>;
  /** Requests outstanding now. */
  inFlight(): number;
}

/** Milliseconds a connection waits after a failed request before its next one (closed loop), so
 *  that a dead server is not hammered in a tight loop of instant connection errors. */
export const FAILURE_BACKOFF_MS = 50;

/**
 * Every `min(timeoutMs / 4, 100)` ms, aborts the requests of `connections()` outstanding for more
 * than timeoutMs (failure TIMEOUT). Returns the function that stops the sweep.
 */
export function sweepTimeouts(connections: () => Iterable<HttpConnection>, timeoutMs: number): () => void {
  const timer = setInterval(
    () => {
      const now = performance.now();
      for (const c of connections()) {
        if (c.busy && now - c.startedAt > timeoutMs) c.abort('TIMEOUT', `no complete response within ${timeoutMs} ms`);
      }
    },
    Math.max(1, Math.min(timeoutMs / 4, 100)),
  );
  return () => clearInterval(timer);
}
