// When a request arrived, as closely as the server can tell. Fastify notes when it starts on a
// request, but under load the event loop reads many sockets in one I/O phase and handles their
// requests one after another, so the last request of a phase was already waiting while the ones
// before it ran. Every request handled in one turn of the loop is therefore taken to have
// arrived when that turn began handling requests (the first one's start), never later than its
// own start. Request-duration metrics measured from here match what clients see much better
// under load; time spent in the kernel and on the network stays invisible to any server.
// The HTTP app notes each request's arrival when Fastify starts on it (its first hook), in the
// core's clock, and both REST frontends (V2 and TF Serving) put that time in the request context.
import type { FastifyRequest } from 'fastify';

const ARRIVAL = Symbol('sibyl.arrival');
type Arrived = FastifyRequest & { [ARRIVAL]?: number };

/** Notes when `request` arrived (core clock ms). */
export function noteArrival(request: FastifyRequest, arrivalMs: number): void {
  (request as Arrived)[ARRIVAL] = arrivalMs;
}

/** When `request` arrived (noted by the app's first hook); `fallbackMs` for a request it did not see. */
export function arrivalOf(request: FastifyRequest, fallbackMs: number): number {
  return (request as Arrived)[ARRIVAL] ?? fallbackMs;
}

export class ArrivalClock {
  private turnStartMs = -1;
  private readonly endTurn = (): void => {
    this.turnStartMs = -1;
  };

  /** The arrival time of a request Fastify started on at `receivedMs` (the clock's ms). */
  arrivalMs(receivedMs: number): number {
    if (this.turnStartMs < 0) {
      this.turnStartMs = receivedMs;
      setImmediate(this.endTurn); // the check phase: after this turn's I/O callbacks
    }
    return Math.min(this.turnStartMs, receivedMs);
  }
}
