// What to do when an execution fails, as pure functions: which requests to run again (halves of
// the failed batch, recursively, or one request alone), and whom to blame once a request failed
// alone — its input values, or the version. So one client's bad input fails only that client's
// request, and the runtime's message (which may quote any member's values) reaches only a
// request that ran alone.
//
// Bisection: a failed batch of n requests splits into halves, each run again; a half that fails
// splits again. With k bad requests among n that costs O(k log n) extra executions, and a clean
// half is answered as soon as it runs.
//
// Blame: a request that failed alone is the cause when the version serves others — another run
// of the same isolation succeeded, or the version's recent executions did (see VersionHealth),
// its warm-up included. A version that has answered nothing yet (no warm-up, no success since it
// loaded) is asked once: a probe, a request generated from its signature as warm-up's are, runs
// on it, and its success is that evidence — so the first requests after a deploy or restart that
// carry bad input get 400 like any later ones, and do not open an endpoint's breaker. Without
// evidence (the probe failed, or there is none, or the version's last FAILING_STREAK lone
// executions failed), the failure is the server's: 500, counted by breakers and canary analysis,
// so a release that fails every run is still caught. A version known to fail (that streak) stops
// bisecting: one probing split per failed batch, so a broken version costs at most three
// executions per batch.
import { SibylError, isInputFault } from '@sibyl/protocol';

/**
 * Lone executions (one request each, isolation runs included) failed in a row, with no success
 * of any execution between them, after which a version counts as failing rather than its inputs:
 * 8 is four lone bad requests in a row. Failed batches do not count (one member may cause them),
 * nor do lone failures of an isolation in which another run succeeded (the version answered
 * others, so they are the requests' doing): with many bad requests at once they come in runs.
 */
export const FAILING_STREAK = 8;

/** What the scheduler remembers of a version's recent executions. */
export interface VersionHealth {
  /** Some execution of the version has succeeded since it was loaded. */
  readonly succeeded: boolean;
  /** Lone executions failed since the last success (server-looking failures only). */
  readonly consecutiveFailures: number;
}

export const NEW_VERSION_HEALTH: VersionHealth = Object.freeze({ succeeded: false, consecutiveFailures: 0 });

/** The health of a version whose instances all answered warm-up executions before it took requests. */
export const WARMED_UP_HEALTH: VersionHealth = Object.freeze({ succeeded: true, consecutiveFailures: 0 });

/** The health after one execution's outcome (a success of any execution; a lone run's failure). */
export function recordOutcome(health: VersionHealth, ok: boolean): VersionHealth {
  if (ok) return health.succeeded && health.consecutiveFailures === 0 ? health : { succeeded: true, consecutiveFailures: 0 };
  return { succeeded: health.succeeded, consecutiveFailures: health.consecutiveFailures + 1 };
}

/** Whether the version is known to answer others: it has succeeded and is not failing every run. */
export function versionServes(health: VersionHealth): boolean {
  return health.succeeded && !versionFails(health);
}

/** Whether the version is known to fail: its last FAILING_STREAK lone executions failed. */
export function versionFails(health: VersionHealth): boolean {
  return health.consecutiveFailures >= FAILING_STREAK;
}

/** One execution that failed, as the decision sees it. */
export interface FailedRun {
  /** Requests in the execution (≥ 1). */
  readonly members: number;
  /** True for the batch as it left the queue; false for a run made to isolate a failure. */
  readonly first: boolean;
  /**
   * How the error reads: `input` when the runtime itself says the request is at fault (a code
   * such as INVALID_ARGUMENT), `server` otherwise (RUNTIME_FAILED and the like).
   */
  readonly error: 'input' | 'server';
}

export interface IsolationEvidence {
  /** versionServes() of the version's health now. */
  readonly versionServes: boolean;
  /** versionFails() of the version's health now. */
  readonly versionFails: boolean;
  /** Some other run of this isolation (a sibling half) succeeded. */
  readonly siblingSucceeded: boolean;
  /**
   * A probe may run: the version has one (a generated request) and has not run it, and has not
   * answered anything yet. Optional: false when absent.
   */
  readonly probeAvailable?: boolean;
}

export type IsolationStep =
  /** Run the first `at` members, and the rest, as two executions. */
  | { kind: 'split'; at: number }
  /** Run the lone member once more, alone: a failure counts only when it reproduces. */
  | { kind: 'retry-alone' }
  /**
   * Nothing says whether the version answers anything: run its probe (once per version), then
   * decide again with what it showed.
   */
  | { kind: 'probe' }
  /** The lone member's input caused the failure: answer it with its own error, as the caller's fault. */
  | { kind: 'blame-input' }
  /** The version fails: every member gets a server error (a batch's error text withheld). */
  | { kind: 'blame-server' };

/** The next step for a failed execution. */
export function decideIsolation(run: FailedRun, evidence: IsolationEvidence): IsolationStep {
  const serves = evidence.versionServes || evidence.siblingSucceeded;
  if (run.members > 1) {
    // A version known to fail gets one probing split per batch: if a half succeeds it serves after all.
    const split = !evidence.versionFails || evidence.siblingSucceeded || run.first || run.error === 'input';
    return split ? { kind: 'split', at: Math.ceil(run.members / 2) } : { kind: 'blame-server' };
  }
  if (run.error === 'input') return { kind: 'blame-input' };
  if (!serves) return evidence.probeAvailable === true && !evidence.versionFails ? { kind: 'probe' } : { kind: 'blame-server' };
  return run.first ? { kind: 'retry-alone' } : { kind: 'blame-input' };
}

/**
 * How a failure reads: `input` when the runtime itself blames the request's contents (the error
 * table's input faults: INVALID_ARGUMENT, OUT_OF_RANGE), `server` otherwise.
 */
export function errorKind(error: SibylError): 'input' | 'server' {
  return isInputFault(error) ? 'input' : 'server';
}

/** The error of a request that failed alone while the version answers others. */
export function inputError(label: string, error: SibylError): SibylError {
  if (errorKind(error) === 'input') return error;
  return new SibylError(
    'INPUT_REJECTED_BY_MODEL',
    `${label} failed on this request's input values when it ran alone, while it answers other requests; check the values against what the model expects (indices within range, say). The runtime said: ${error.message}`,
    { cause: error },
  );
}

/** The error of requests that failed together on a failing version: the runtime's text withheld. */
export function withheldError(label: string, requests: number, error: SibylError): SibylError {
  return new SibylError(
    error.reason,
    `${label} failed on a batch of ${requests} requests this one was part of, and fails other executions too; the runtime's message is not shown here because it may describe other requests (the server log has it)`,
    { cause: error },
  );
}
