// What a caller may do (issue 15): the scopes of a principal and the one rule that checks them.
// Every entry (HTTP, gRPC, the embedding API, streams later) asks `allows` before it acts; the
// layers below ask it too where a request can raise its own power (a load with a config override
// that raises the prediction log's sample rate needs `admin`).
import type { Principal } from './request-context.ts';

/**
 * `infer:<model or endpoint>` (or `infer:*`): predict; `read`: metadata, metrics, reports, the
 * prediction log; `features:push`: push feature values; `batch:run`: start and watch batch jobs;
 * `admin`: everything, including load/unload, labels, endpoints, state and logging.
 */
export type Scope = 'read' | 'admin' | 'batch:run' | 'features:push' | `infer:${string}`;

/** The scope names a configuration may grant (besides `infer:<name>`). */
export const FIXED_SCOPES = ['read', 'admin', 'batch:run', 'features:push', 'infer:*'] as const;

/**
 * Whether `principal` may do what `needed` names. An undefined principal means authentication is
 * off (a loopback server for a newcomer): every caller may do everything — the sandbox and the
 * browser checks still apply, they do not depend on scopes. `admin` implies every scope;
 * `infer:*` implies every `infer:<name>`.
 */
export function allows(principal: Principal | undefined, needed: Scope): boolean {
  if (principal === undefined) return true;
  const scopes = principal.scopes;
  if (scopes.includes('admin')) return true;
  if (scopes.includes(needed)) return true;
  return needed.startsWith('infer:') && scopes.includes('infer:*');
}
