// Files a model's config names (warm-up samples, the drift baseline) live in the model's folder:
// a path is relative to it and must stay inside it. An absolute path, a `..` that climbs out, or
// a symbolic link whose target is outside is a config error naming the field, so a config (or a
// load request's config override) cannot make the server read arbitrary files.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { ConfigProblem } from './validate.ts';

/**
 * Resolves `file` (as written at `field`) inside `folder`. Returns the absolute path, or a
 * problem saying what was wrong and what was expected. Links are followed when the file exists
 * now (the check runs each time the config is compiled); a file that does not exist yet fails
 * later, when it is read, with "no such file".
 */
export function resolveInModelFolder(folder: string, file: string, field: string): { path: string } | { problem: ConfigProblem } {
  const expected = `expected a path relative to the model's folder (${folder}) that stays inside it`;
  if (path.isAbsolute(file)) return { problem: { path: field, message: `${JSON.stringify(file)} is an absolute path; ${expected}` } };
  const resolved = path.resolve(folder, file);
  if (!inside(path.resolve(folder), resolved)) return { problem: { path: field, message: `${JSON.stringify(file)} leads outside the model's folder; ${expected}` } };
  let realFolder: string;
  let realFile: string;
  try {
    realFolder = realpathSync(folder);
    realFile = realpathSync(resolved);
  } catch {
    return { path: resolved }; // not there (yet): reading it reports that
  }
  if (!inside(realFolder, realFile)) return { problem: { path: field, message: `${JSON.stringify(file)} is a link to ${realFile}, outside the model's folder; ${expected}` } };
  return { path: resolved };
}

function inside(folder: string, file: string): boolean {
  const relative = path.relative(folder, file);
  return relative !== '' && !relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative);
}
