// Names in URL paths (model, endpoint, label, version) are checked by the one rule of
// @sibyl/protocol (names.ts) before any route runs and before the body is read: a name that could
// leave the model repository ("..", "a/b" sent as a%2Fb, NUL, control characters, overlong) is
// refused with NAME_INVALID (400) whatever the route does with it.
import { nameError, type NameKind, type SibylError } from '@sibyl/protocol';
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors.ts';

const PARAMETERS: readonly (readonly [string, NameKind])[] = [
  ['model', 'model'],
  ['endpoint', 'endpoint'],
  ['label', 'label'],
  ['version', 'version'],
];

/** The NAME_INVALID error for the first bad name among a route's path parameters, if any. */
export function pathNameError(params: unknown): SibylError | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const p = params as Record<string, unknown>;
  for (const [key, kind] of PARAMETERS) {
    const value = p[key];
    if (value === undefined) continue;
    const error = nameError(value, kind, 'in the path');
    if (error !== undefined) return error;
  }
  return undefined;
}

/** Installs the check as an onRequest hook (callback style: no promise per request). */
export function installPathNameCheck(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const error = pathNameError(request.params);
    if (error !== undefined) {
      sendError(reply, error);
      return;
    }
    done();
  });
}
