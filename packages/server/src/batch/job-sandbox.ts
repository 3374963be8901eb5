// The management sandbox of batch jobs sent over the network (POST /v1/batch/jobs, resume): what
// such a job may read and write. A job names files only inside the configured source roots (after
// following links), databases only by the name of a configured connection (never a URL or a
// database file), writes its reject file only under the server's data directory, and never reads
// the server's own files (state store, prediction store, prediction log, with their SQLite
// journals) as a source, even inside a root. Jobs from
// sibyl.yaml's schedules and `sibyl batch run` (a local user with a shell) are not sandboxed.
//
// Checks run when the job is prepared; the compiled job then names the resolved paths (links
// followed), so what runs is what was checked.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { SibylError } from '@sibyl/protocol';
import type { BatchJob } from '../config/batch-job-config.ts';

export interface JobSandbox {
  /** Absolute folders a job's source files (and a job file sent by path) may be in. */
  readonly sourceRoots: readonly string[];
  /** Absolute folders a job file sent by path may also be in (`<config folder>/jobs`). */
  readonly jobFileRoots: readonly string[];
  /** The server's data directory (the folder of its state store): reject files go under it. */
  readonly dataDir: string;
  /** Files never readable as a source wherever they are (state store, prediction store, prediction log). */
  readonly privateFiles: readonly string[];
}

/** Whether `real` is one of the server's own files (a SQLite file's -wal, -shm and -journal too). */
function isPrivate(sandbox: JobSandbox, real: string): boolean {
  return sandbox.privateFiles.some((f) => {
    const file = realpathLoose(f);
    return real === file || real.startsWith(`${file}-`);
  });
}

/** `p` with links followed: the real path of its longest existing prefix, then the rest as written. */
export function realpathLoose(p: string): string {
  const absolute = path.resolve(p);
  let head = absolute;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(head), ...tail);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return absolute;
      tail.unshift(path.basename(head));
      head = parent;
    }
  }
}

/** Whether `file` is `folder` or inside it (both absolute, links already followed). */
export function isInside(folder: string, file: string): boolean {
  const relative = path.relative(folder, file);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

function refused(message: string): SibylError {
  return new SibylError('PATH_NOT_ALLOWED', message);
}

function rootsText(roots: readonly string[]): string {
  return roots.length === 0 ? 'none are configured (sandbox.sourceRoots is empty)' : roots.map((r) => JSON.stringify(r)).join(', ');
}

/**
 * The real path of a source file named at `field`, when the sandbox allows reading it.
 * @throws SibylError PATH_NOT_ALLOWED naming the field and the allowed roots.
 */
export function allowedSourceFile(sandbox: JobSandbox, file: string, field: string): string {
  const real = realpathLoose(file);
  if (isPrivate(sandbox, real)) {
    throw refused(`${field} names a file of the server's own data (its state store, prediction store or prediction log); a job sent over the API cannot read those`);
  }
  const roots = sandbox.sourceRoots.map(realpathLoose);
  if (!roots.some((root) => isInside(root, real))) {
    throw refused(`${field} names ${JSON.stringify(file)}, outside the source roots a job sent over the API may read; expected a file inside one of sandbox.sourceRoots: ${rootsText(sandbox.sourceRoots)}`);
  }
  return real;
}

/** The real path of a job file sent by path. @throws SibylError PATH_NOT_ALLOWED. */
export function allowedJobFile(sandbox: JobSandbox, file: string): string {
  const real = realpathLoose(file);
  const roots = [...sandbox.jobFileRoots, ...sandbox.sourceRoots];
  if (isPrivate(sandbox, real) || !roots.map(realpathLoose).some((root) => isInside(root, real))) {
    throw refused(`"jobFile" names ${JSON.stringify(file)}, outside the folders a job file sent over the API may be in; expected a file inside ${rootsText(roots)}`);
  }
  return real;
}

/** The path of a reject file under the data directory. @throws SibylError PATH_NOT_ALLOWED. */
export function allowedRejectsFile(sandbox: JobSandbox, file: string): string {
  const real = realpathLoose(file);
  if (!isInside(realpathLoose(sandbox.dataDir), real) || isPrivate(sandbox, real)) {
    throw refused(`"rejects" names ${JSON.stringify(file)}; a job sent over the API writes its reject file only under the server's data directory ${JSON.stringify(sandbox.dataDir)} (leave rejects out for the default)`);
  }
  return real;
}

/**
 * The job as the sandbox lets it run: its source and reject file checked (and named by their real
 * paths), its SQL source a named connection. @throws SibylError PATH_NOT_ALLOWED.
 */
export function sandboxedJob(sandbox: JobSandbox, job: BatchJob): BatchJob {
  const s = job.source;
  let source = s;
  const document = structuredClone(job.document);
  if (s.kind === 'sqlite' || s.kind === 'postgres') {
    if (s.connection === undefined) {
      throw refused(`source.sql names a ${s.kind === 'sqlite' ? 'database file' : 'PostgreSQL URL'}; a job sent over the API names a database only by the name of a connection of the server (source.sql.connection, from sandbox.connections in sibyl.yaml)`);
    }
    if (s.kind === 'sqlite' && isPrivate(sandbox, realpathLoose(s.path))) {
      throw refused(`connection ${JSON.stringify(s.connection)} is a file of the server's own data; a job sent over the API cannot read it`);
    }
  } else {
    const real = allowedSourceFile(sandbox, s.path, `source.${s.kind}`);
    source = { kind: s.kind, path: real };
    document.source[s.kind] = real;
  }
  const rejectsPath = allowedRejectsFile(sandbox, job.rejectsPath);
  document.rejects = rejectsPath;
  return Object.freeze({ ...job, source: Object.freeze(source), rejectsPath, document });
}
