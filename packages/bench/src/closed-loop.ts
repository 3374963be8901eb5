// The closed loop: `concurrency` connections, each sending its next request the moment the
// previous one completes (after FAILURE_BACKOFF_MS when it failed). Throughput is what the
// server sustains at that concurrency; latency is measured from write to full response.
import { HttpConnection, READ_BUFFER_BYTES } from './http-connection.ts';
import type { Completion } from './http-connection.ts';
import { FAILURE_BACKOFF_MS, sweepTimeouts } from './load-driver.ts';
import type { LoadDriver, LoadTarget } from './load-driver.ts';

export class ClosedLoopDriver implements LoadDriver {
  private readonly connections: HttpConnection[] = [];
  private readonly backoffs = new Set<NodeJS.Timeout>();
  private next: number;
  private running = false;
  private stopSweep: (() => void) | undefined;
  private drained: (() => void) | undefined;

  constructor(
    private readonly target: LoadTarget,
    concurrency: number,
  ) {
    this.next = target.firstRequest ?? 0;
    // One read buffer for all connections: reads are parsed synchronously, one at a time.
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    for (let i = 0; i < concurrency; i++) this.connections.push(new HttpConnection(target.endpoint, this.onComplete, readBuffer));
  }

  start(): void {
    this.running = true;
    this.stopSweep = sweepTimeouts(() => this.connections, this.target.timeoutMs);
    for (const c of this.connections) this.send(c);
  }

  stop(): Promise<void> {
    this.running = false;
    for (const t of this.backoffs) clearTimeout(t);
    this.backoffs.clear();
    return new Promise<void>((resolve) => {
      this.drained = resolve;
      this.checkDrained();
    });
  }

  inFlight(): number {
    let n = 0;
    for (const c of this.connections) if (c.busy) n++;
    return n;
  }

  private send(c: HttpConnection): void {
    const requests = this.target.requests;
    const i = this.next;
    this.next = i + 1 === requests.length ? 0 : i + 1;
    c.tag = i;
    c.send(requests[i]!.bytes);
    c.windowAt = c.startedAt;
    this.target.recorder.onSent(c.startedAt);
  }

  private readonly onComplete: Completion = (c, status, errorBody, failure, message) => {
    const now = performance.now();
    const recorder = this.target.recorder;
    if (failure === undefined) recorder.onResponse(c.windowAt, c.startedAt, now, status, errorBody, this.target.requests[c.tag]!.rows);
    else recorder.onFailure(c.windowAt, now, failure, message ?? failure);
    if (!this.running) {
      this.checkDrained();
      return;
    }
    if (failure === undefined) {
      this.send(c);
      return;
    }
    const t = setTimeout(() => {
      this.backoffs.delete(t);
      if (this.running) this.send(c);
      else this.checkDrained();
    }, FAILURE_BACKOFF_MS);
    this.backoffs.add(t);
  };

  private checkDrained(): void {
    if (this.drained === undefined || this.inFlight() > 0) return;
    this.stopSweep?.();
    for (const c of this.connections) c.close();
    const done = this.drained;
    this.drained = undefined;
    done();
  }
}
