// Log lines a client can cause, written through a LogRateLimiter: each kind (key) writes at most
// `burst` lines per window, and a summary line — `suppressed N similar messages` — reports the
// rest when the window ends, so a flood of bad requests cannot flood the log.
import type { Logger } from 'pino';
import type { CancelTimer, Clock } from '../../core/clock.ts';
import { DEFAULT_LOG_RATE_LIMITS, LogRateLimiter, type LogRateLimits } from './log-rate-limiter.ts';

export type ThrottledLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug';

/** Writes log lines of a kind (`key`) a client can repeat at will. */
export interface KeyedLineWriter {
  write(logger: Logger, level: ThrottledLevel, key: string, fields: object, msg: string): void;
}

/** Writes every line (where no limiter was given: tests and tools). */
export const UNTHROTTLED: KeyedLineWriter = {
  write: (logger, level, _key, fields, msg) => logger[level](fields, msg),
};

export class ThrottledLog implements KeyedLineWriter {
  private readonly limiter: LogRateLimiter;
  private cancelTimer: CancelTimer | undefined;

  /** `log` writes the summaries; `clock` times the windows (its timers must not keep a process alive). */
  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    limits: LogRateLimits = DEFAULT_LOG_RATE_LIMITS,
  ) {
    this.limiter = new LogRateLimiter(limits);
  }

  /**
   * Writes `msg` at `level` through `logger` (a child carrying the request's bindings, or the
   * root logger) unless `key` has used its lines for this window. `key` names the kind of line
   * (an error reason and a route, say), never client data. Lines of a level that is off cost
   * nothing and are not counted.
   */
  write(logger: Logger, level: ThrottledLevel, key: string, fields: object, msg: string): void {
    if (!logger.isLevelEnabled(level)) return;
    if (this.limiter.admit(key, this.clock.now())) logger[level](fields, msg);
    this.schedule();
  }

  /** Writes the summaries of windows ended by now; called by the timer. */
  flush(): void {
    this.report(this.limiter.due(this.clock.now()));
    this.schedule();
  }

  /** Stops the timer and reports every open window's suppressed lines. */
  close(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.report(this.limiter.due(this.clock.now(), true));
  }

  private report(summaries: ReturnType<LogRateLimiter['due']>): void {
    for (const s of summaries) {
      this.log.warn({ logKey: s.key, suppressed: s.suppressed, windowMs: this.limiter.limits.windowMs }, `suppressed ${s.suppressed} similar messages (${s.key}) in ${Math.round(s.toMs - s.fromMs)} ms`);
    }
  }

  /** One timer while any window is open: it fires when the oldest could have ended. */
  private schedule(): void {
    if (this.cancelTimer !== undefined || this.limiter.size === 0) return;
    this.cancelTimer = this.clock.setTimeout(() => {
      this.cancelTimer = undefined;
      this.flush();
    }, this.limiter.limits.windowMs);
  }
}
