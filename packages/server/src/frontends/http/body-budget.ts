// The memory budget for request bodies held at once (http.inflightBodyBytes). A body is held
// from its first byte received until its answer is sent or its connection closes: while it
// arrives, while it is decoded and while its tensors run, at what it costs in memory then
// (core/body-cost.ts: a JSON body 14× its size, binary tensors 2×). A body whose Content-Length is
// known takes its whole cost before it is read, so requests that cannot all be decoded at once
// are refused at once (503, Retry-After) instead of half-way through their upload; a client that
// declares a length and stalls holds it at most http.requestReceiveTimeoutMs. Bodies of unknown
// length (chunked, or compressed: counted inflated) take their cost as their bytes arrive.

/** The shared count. Not thread-safe (one event loop); `take` never goes past the limit. */
export class BodyBudget {
  private heldBytes = 0;
  /** Requests refused because their body did not fit, by body kind (for /metrics). */
  readonly refusals = { json: 0, binary: 0 };

  constructor(readonly limitBytes: number) {}

  /** Bytes held now by every request. */
  get held(): number {
    return this.heldBytes;
  }

  /** Whether `bytes` more would fit now. */
  fits(bytes: number): boolean {
    return this.heldBytes + bytes <= this.limitBytes;
  }

  /** Takes `bytes` if they fit; false (and nothing taken) if not. */
  take(bytes: number): boolean {
    if (!this.fits(bytes)) return false;
    this.heldBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
  }
}

/** What one request holds of the budget. `release` gives it all back, once. */
export class BodyHold {
  private heldBytes = 0;
  private released = false;

  constructor(private readonly budget: BodyBudget) {}

  get bytes(): number {
    return this.heldBytes;
  }

  /** Takes `bytes` more for this request; false when the budget has no room (or it was released). */
  take(bytes: number): boolean {
    if (this.released || !this.budget.take(bytes)) return false;
    this.heldBytes += bytes;
    return true;
  }

  /** Takes what is missing for this request to hold `total` bytes (nothing when it holds that already). */
  holdAtLeast(total: number): boolean {
    return total <= this.heldBytes ? !this.released : this.take(total - this.heldBytes);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.release(this.heldBytes);
    this.heldBytes = 0;
  }
}
