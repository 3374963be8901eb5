// Cancelling queued work. The core accepts anything shaped like the part of AbortSignal it uses,
// so callers may pass an AbortSignal; hot paths use CancelToken, which costs one small object
// instead of an AbortController and an EventTarget per request.

/** What the core needs of a cancellation signal; AbortSignal has this shape. */
export interface Cancellation {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A one-shot cancellation with at most one listener at a time (the scheduler's). */
export class CancelToken implements Cancellation {
  aborted = false;
  private listener: (() => void) | undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }

  /** Cancels once; the listener (if any) runs synchronously. */
  cancel(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }
}
