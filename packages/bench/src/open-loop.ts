// The open loop: requests leave on a schedule (`ratePerSecond`, constant or Poisson spacing)
// whatever the server does, each on an idle connection (opened on demand, at most maxInFlight).
// A scheduled request that finds maxInFlight outstanding is dropped (not sent, counted); one
// that leaves more than LATE_MS after its scheduled time counts as late (the generator fell
// behind: timer granularity is ~1 ms, so bursts within a millisecond leave together).
import { HttpConnection, READ_BUFFER_BYTES } from './http-connection.ts';
import type { Completion } from './http-connection.ts';
import { sweepTimeouts } from './load-driver.ts';
import type { LoadDriver, LoadTarget } from './load-driver.ts';
import type { Random } from './random.ts';
import type { Arrival } from './config.ts';

export interface OpenLoopSchedule {
  readonly ratePerSecond: number;
  readonly arrival: Arrival;
  readonly maxInFlight: number;
}

/** Gap in ms before the next arrival: 1000/rate, or exponentially distributed with that mean. */
export function nextGapMs(schedule: OpenLoopSchedule, random: Random): number {
  const mean = 1000 / schedule.ratePerSecond;
  return schedule.arrival === 'constant' ? mean : -Math.log(1 - random()) * mean;
}

export class OpenLoopDriver implements LoadDriver {
  private readonly all: HttpConnection[] = [];
  private readonly idle: HttpConnection[] = [];
  /** One read buffer for all connections: reads are parsed synchronously, one at a time. */
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private outstanding = 0;
  private next: number;
  private nextAt = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private stopSweep: (() => void) | undefined;
  private drained: (() => void) | undefined;

  constructor(
    private readonly target: LoadTarget,
    private readonly schedule: OpenLoopSchedule,
    private readonly random: Random,
    /** Time of the first arrival (performance.now() ms); default: when start() is called. */
    private readonly firstAt?: number,
  ) {
    this.next = target.firstRequest ?? 0;
  }

  start(): void {
    this.running = true;
    this.stopSweep = sweepTimeouts(() => this.all, this.target.timeoutMs);
    this.nextAt = this.firstAt ?? performance.now();
    this.tick();
  }

  stop(): Promise<void> {
    // Arrivals already due (their timer may not have fired yet) still leave or count as dropped.
    if (this.running) this.tick();
    this.running = false;
    clearTimeout(this.timer);
    return new Promise<void>((resolve) => {
      this.drained = resolve;
      this.checkDrained();
    });
  }

  inFlight(): number {
    return this.outstanding;
  }

  /** Connections opened so far (at most maxInFlight). */
  connectionCount(): number {
    return this.all.length;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    const now = performance.now();
    const recorder = this.target.recorder;
    while (this.nextAt <= now) {
      const at = this.nextAt;
      this.nextAt += nextGapMs(this.schedule, this.random);
      if (this.outstanding >= this.schedule.maxInFlight) {
        recorder.onDropped(at);
        continue;
      }
      let c = this.idle.pop();
      if (c === undefined) {
        c = new HttpConnection(this.target.endpoint, this.onComplete, this.readBuffer);
        this.all.push(c);
      }
      const requests = this.target.requests;
      const i = this.next;
      this.next = i + 1 === requests.length ? 0 : i + 1;
      c.tag = i;
      this.outstanding++;
      c.send(requests[i]!.bytes);
      c.windowAt = at;
      recorder.onScheduledSent(at, c.startedAt - at);
    }
    // Node timers have 1 ms granularity: arrivals less than 1 ms apart leave in one tick.
    this.timer = setTimeout(this.tick, Math.max(0, Math.floor(this.nextAt - performance.now())));
  };

  private readonly onComplete: Completion = (c, status, errorBody, failure, message) => {
    const now = performance.now();
    const recorder = this.target.recorder;
    this.outstanding--;
    if (failure === undefined) recorder.onResponse(c.windowAt, c.startedAt, now, status, errorBody, this.target.requests[c.tag]!.rows);
    else recorder.onFailure(c.windowAt, now, failure, message ?? failure);
    this.idle.push(c);
    if (!this.running) this.checkDrained();
  };

  private checkDrained(): void {
    if (this.drained === undefined || this.outstanding > 0) return;
    this.stopSweep?.();
    for (const c of this.all) c.close();
    const done = this.drained;
    this.drained = undefined;
    done();
  }
}
