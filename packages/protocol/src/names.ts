// The one rule for names that arrive over the network and may become part of a path: model,
// version, label and endpoint names (in URLs, gRPC messages, load requests, label moves, endpoint
// configs, batch job targets). A model name is a folder of the model repository, so a name must
// not be able to leave it: no path separators, no "." or "..", no NUL or control characters,
// bounded length. Pure; runs in Node and browsers (clients may check before sending).
import { SibylError } from './errors.ts';

/**
 * Longest name, in UTF-16 code units: the longest path parameter the HTTP server routes (and a
 * tensor name's limit). A model folder's name is further bounded by the filesystem (255 bytes on
 * most); a longer model name is simply not found.
 */
export const MAX_NAME_LENGTH = 1024;

/** The rule, as messages state it. */
export const NAME_RULE = `names are 1 to ${MAX_NAME_LENGTH} characters without '/', '\\', control characters, and are not '.' or '..'`;

/** What a name names, for messages. */
export type NameKind = 'model' | 'version' | 'label' | 'endpoint' | 'model or endpoint';

// C0 and C1 controls, DEL, and both path separators.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f/\\]/;

/**
 * Why `name` is not an allowed name, or undefined when it is: empty, longer than
 * MAX_NAME_LENGTH, "." or "..", or holding '/', '\\', NUL or a
 * control character.
 */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `is ${name === null ? 'null' : typeof name}; expected a string`;
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (name === '.' || name === '..') return `is '${name}', which names a folder, not a model`;
  const bad = FORBIDDEN.exec(name);
  if (bad !== null) {
    const c = bad[0];
    return c === '/' || c === '\\' ? `contains '${c}', a path separator` : `contains the control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return undefined;
}

/**
 * The NAME_INVALID error for `name` when it is not allowed (see nameProblem), else undefined.
 * `where` says where it came from (`in the path`, `ModelInferRequest.model_name`, …).
 */
export function nameError(name: unknown, kind: NameKind, where?: string): SibylError | undefined {
  const problem = nameProblem(name);
  if (problem === undefined) return undefined;
  const shown = typeof name === 'string' ? ` ${JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name)}` : '';
  return new SibylError(
    'NAME_INVALID',
    `the ${kind} name${shown}${where === undefined ? '' : ` (${where})`} ${problem}; ${NAME_RULE}`,
    { details: { limit: MAX_NAME_LENGTH } },
  );
}

/** `name` when it is allowed. @throws SibylError NAME_INVALID naming the problem and the rule (nameError). */
export function checkName(name: unknown, kind: NameKind, where?: string): string {
  const error = nameError(name, kind, where);
  if (error !== undefined) throw error;
  return name as string;
}

