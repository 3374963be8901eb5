// Node's process warnings (deprecations, experimental features, MaxListeners…) as JSON log
// lines. Node's own listener prints them as text on stderr, outside the server's log stream;
// this replaces it for as long as the server runs. Warnings emitted before it is installed, and
// those of worker threads, keep Node's text form on stderr (never on stdout, which holds only the
// log's JSON lines).
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ThrottledLog } from './throttled-log.ts';

type WarningListener = (warning: Error) => void;

/**
 * Routes `proc`'s 'warning' events to `log` at warn level (through `throttle` when given, keyed
 * by the warning's name and code) in place of its current listeners. Returns the undo, which
 * puts the previous listeners back.
 */
export function routeProcessWarnings(proc: EventEmitter, log: Logger, throttle?: ThrottledLog): () => void {
  const previous = proc.listeners('warning') as WarningListener[];
  proc.removeAllListeners('warning');
  const onWarning: WarningListener = (warning) => {
    const code = (warning as { code?: unknown }).code;
    const fields = { warning: { name: warning.name, ...(typeof code === 'string' ? { code } : {}), message: warning.message, stack: warning.stack } };
    const msg = `${warning.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${warning.message}`;
    if (throttle === undefined) log.warn(fields, msg);
    else throttle.write(log, 'warn', `process warning ${warning.name}${typeof code === 'string' ? ` ${code}` : ''}`, fields, msg);
  };
  proc.on('warning', onWarning);
  return () => {
    proc.off('warning', onWarning);
    for (const listener of previous) proc.on('warning', listener);
  };
}
