// The byte budget for request bodies held at once (http.inflightBodyBytes). A body is held from
// its first byte received until its answer is sent or its connection closes: while it arrives,
// while it is decoded (a JSON body costs several times its size then) and while its tensors run.
// Counting received bytes, not declared ones, means a client cannot take the budget by declaring
// a large Content-Length and sending nothing; a declared length is only checked against what is
// free, so a request that cannot fit is refused before its body is sent.

/** The shared count. Not thread-safe (one event loop); `take` never goes past the limit. */
export class BodyBudget {
  private heldBytes = 0;

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

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.release(this.heldBytes);
    this.heldBytes = 0;
  }
}
