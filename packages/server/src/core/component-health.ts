// The health of the server's supporting components (stores, sinks, caches), apart from inference:
// each is `ok` or `degraded` with the reason of its last failure. A component reports every
// outcome; a failure degrades it and the next success recovers it. Inference stays ready while a
// component is degraded — the readiness body, the metric sibyl_component_degraded and the log say
// which one and why.
import type { Clock } from './clock.ts';

/** The components that report their health, as labels and JSON show them. */
export const COMPONENTS = ['state_store', 'prediction_store', 'prediction_log', 'response_cache', 'rate_limiter'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

export interface ComponentStatus {
  component: ComponentName;
  state: 'ok' | 'degraded';
  /** Why it is degraded: the last failure's message. */
  reason?: string;
  /** Wall-clock time (ms since the epoch) of the last change of state. */
  sinceMs: number;
}

export type ComponentChange = ComponentStatus & { previous: 'ok' | 'degraded' };

export class ComponentHealth {
  private readonly states = new Map<ComponentName, ComponentStatus>();
  private readonly listeners: ((change: ComponentChange) => void)[] = [];

  constructor(private readonly clock: Clock) {}

  /** The component failed: degraded with `reason` (a change is told to listeners once). */
  failed(component: ComponentName, reason: string): void {
    const current = this.states.get(component);
    if (current?.state === 'degraded') {
      current.reason = reason;
      return;
    }
    this.change({ component, state: 'degraded', reason, sinceMs: this.clock.epochMs() }, current?.state ?? 'ok');
  }

  /** The component worked: ok again if it was degraded. */
  succeeded(component: ComponentName): void {
    const current = this.states.get(component);
    if (current === undefined || current.state === 'ok') return;
    this.change({ component, state: 'ok', sinceMs: this.clock.epochMs() }, 'degraded');
  }

  isDegraded(component: ComponentName): boolean {
    return this.states.get(component)?.state === 'degraded';
  }

  /** The degraded components, in COMPONENTS order. */
  degraded(): ComponentStatus[] {
    return COMPONENTS.flatMap((c) => {
      const s = this.states.get(c);
      return s?.state === 'degraded' ? [{ ...s }] : [];
    });
  }

  /** Told of every change of state (for logs). */
  onChange(listener: (change: ComponentChange) => void): void {
    this.listeners.push(listener);
  }

  private change(status: ComponentStatus, previous: 'ok' | 'degraded'): void {
    this.states.set(status.component, status);
    for (const fn of this.listeners) fn({ ...status, previous });
  }
}

/**
 * Wraps a store so that each method call reports to `health`: a resolved call is a success, a
 * rejected or throwing one a failure — unless `isCallerError` says the error is the caller's
 * (a key not found, a bad argument), which says nothing of the component. Failures that are not
 * the caller's pass through `toError` (e.g. to give them a 503 reason). `close` is not watched.
 * A method given a timeout by `timeoutMs` fails when its promise has not settled in time (a
 * database that stopped answering must not hang a request); the call itself goes on, and its
 * late outcome still reports to `health`.
 */
export function watchedStore<T extends object>(
  store: T,
  component: ComponentName,
  health: ComponentHealth,
  options: {
    isCallerError: (err: unknown) => boolean;
    toError?: (err: unknown, method: string) => unknown;
    /** Longest wait for a method's promise (`ms(method)`; undefined: no limit), timed on `clock`. */
    timeout?: { clock: Clock; ms: (method: string) => number | undefined };
  },
): T {
  // One wrapper per method, made on first use (hot paths such as lookups allocate none per call).
  const wrappers = new Map<string, (...args: unknown[]) => unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close' || typeof property !== 'string') return value;
      const made = wrappers.get(property);
      if (made !== undefined) return made;
      const wrapper = function watched(...args: unknown[]): unknown {
        const fail = (err: unknown): never => {
          if (options.isCallerError(err)) throw err;
          health.failed(component, err instanceof Error ? err.message : String(err));
          throw options.toError === undefined ? err : options.toError(err, property);
        };
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          return fail(err);
        }
        if (result instanceof Promise) {
          const watched = result.then((v: unknown) => {
            health.succeeded(component);
            return v;
          }, fail);
          const limitMs = options.timeout?.ms(property);
          if (limitMs === undefined) return watched;
          const clock = options.timeout!.clock;
          return new Promise((resolve, reject) => {
            const cancel = clock.setTimeout(() => {
              try {
                fail(new Error(`${property} did not answer within ${limitMs} ms`));
              } catch (err) {
                reject(err);
              }
            }, limitMs);
            watched.then(
              (v) => {
                cancel();
                resolve(v);
              },
              (err: unknown) => {
                cancel();
                reject(err);
              },
            );
          });
        }
        health.succeeded(component);
        return result;
      };
      wrappers.set(property, wrapper);
      return wrapper;
    },
  });
}
