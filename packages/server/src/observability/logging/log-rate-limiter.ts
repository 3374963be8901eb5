// Which log lines to write when one cause repeats: a bounded per-key rate limiter. Lines that a
// client can cause at will (a request whose input makes every run fail, say) carry a key naming
// their kind, never their text; each key may write `burst` lines per window, the rest are counted
// and reported once the window ends as one summary. Pure: time is passed in.

export interface LogRateLimits {
  /** Lines a key may write per window. */
  burst: number;
  /** Length of a key's window, in milliseconds; it starts at the key's first line. */
  windowMs: number;
  /**
   * Keys tracked at once. When full, lines of new keys share one overflow key (OVERFLOW_KEY), so
   * a flood of distinct keys costs bounded memory and is limited like one key.
   */
  maxKeys: number;
}

export const DEFAULT_LOG_RATE_LIMITS: LogRateLimits = { burst: 10, windowMs: 10_000, maxKeys: 1000 };

/** The key of lines whose own key found the table full. */
export const OVERFLOW_KEY = '(other keys)';

/** Lines of one key not written during one window. */
export interface SuppressedLines {
  key: string;
  suppressed: number;
  /** When the window began and ended (the same clock as the times passed in). */
  fromMs: number;
  toMs: number;
}

interface Window {
  startMs: number;
  written: number;
  suppressed: number;
}

export class LogRateLimiter {
  private readonly windows = new Map<string, Window>();
  /** Summaries of windows that ended while a line of their key arrived (reported by `due`). */
  private ended: SuppressedLines[] = [];

  constructor(readonly limits: LogRateLimits = DEFAULT_LOG_RATE_LIMITS) {
    if (!(limits.burst >= 1 && limits.windowMs > 0 && limits.maxKeys >= 1)) throw new RangeError(`log rate limits need burst ≥ 1, windowMs > 0 and maxKeys ≥ 1; got ${JSON.stringify(limits)}`);
  }

  /** Keys with a window open. */
  get size(): number {
    return this.windows.size;
  }

  /** True when a line of `key` at `nowMs` may be written; false when it is counted instead. */
  admit(key: string, nowMs: number): boolean {
    let window = this.windows.get(key);
    if (window !== undefined && nowMs - window.startMs >= this.limits.windowMs) {
      this.close(key, window, nowMs);
      window = undefined;
    }
    if (window === undefined) {
      if (this.windows.size >= this.limits.maxKeys && key !== OVERFLOW_KEY) return this.admit(OVERFLOW_KEY, nowMs);
      window = { startMs: nowMs, written: 0, suppressed: 0 };
      this.windows.set(key, window);
    }
    if (window.written < this.limits.burst) {
      window.written++;
      return true;
    }
    window.suppressed++;
    return false;
  }

  /**
   * Ends every window older than the window length at `nowMs` (every window when `all`) and
   * returns those that suppressed lines, oldest first. Their keys start afresh.
   */
  due(nowMs: number, all = false): SuppressedLines[] {
    for (const [key, window] of this.windows) if (all || nowMs - window.startMs >= this.limits.windowMs) this.close(key, window, nowMs);
    const out = this.ended;
    this.ended = [];
    return out.sort((a, b) => a.fromMs - b.fromMs);
  }

  private close(key: string, window: Window, nowMs: number): void {
    this.windows.delete(key);
    if (window.suppressed > 0) this.ended.push({ key, suppressed: window.suppressed, fromMs: window.startMs, toMs: Math.min(nowMs, window.startMs + this.limits.windowMs) });
  }
}
