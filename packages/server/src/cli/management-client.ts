// The management API as the CLI calls it: JSON over HTTP to a running `sibyl serve`. Errors
// come back as ManagementError with the server's message, code and reason, or with what went
// wrong reaching the server.
import type { ErrorBody } from '@sibyl/protocol';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseYaml } from '../config/yaml-file.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export const DEFAULT_URL = 'http://127.0.0.1:8000';

export class ManagementError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly reason: string | undefined,
  ) {
    super(message);
    this.name = 'ManagementError';
  }
}

/** The server URL: --url, else SIBYL_URL, else the default; without a trailing slash. */
export function serverUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return (flag ?? env.SIBYL_URL ?? DEFAULT_URL).replace(/\/+$/, '');
}

/** Calls the server and returns the parsed JSON answer. @throws ManagementError. */
export async function callServer<T>(base: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ManagementError(
      `cannot reach the server at ${base}: ${cause?.code ?? cause?.message ?? (err as Error).message}; is 'sibyl serve' running there? (set --url or SIBYL_URL)`,
      undefined,
      undefined,
    );
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ManagementError(`${method} ${base}${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`, res.status, undefined);
  }
  if (!res.ok) {
    const error = parsed as Partial<ErrorBody>;
    throw new ManagementError(`${error.error ?? `${method} ${path} failed with status ${res.status}`}${error.reason === undefined ? '' : ` (${error.reason})`}`, res.status, error.reason);
  }
  return parsed as T;
}

/** Adds the --url option every management subcommand takes. */
export function withUrl(command: Command): Command {
  return command.option('--url <url>', 'the server (default: SIBYL_URL, else http://127.0.0.1:8000)');
}

/**
 * A subcommand's action: `fn` gets the server URL and the command (its args and opts) and
 * returns the text for stdout; exit code 0. A refusal or an unreachable server prints
 * `sibyl: <why>` on stderr, exit code 1.
 */
export function managementAction(io: CliIo, setExitCode: (code: number) => void, fn: (base: string, command: Command) => Promise<string>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const base = serverUrl(command.opts<{ url?: string }>().url, io.env);
    try {
      const out = await fn(base, command);
      if (out !== '') io.stdout.write(`${out}\n`);
      setExitCode(0);
    } catch (err) {
      if (!(err instanceof ManagementError) && !(err instanceof Error && err.name === 'ConfigError')) throw err;
      io.stderr.write(`sibyl: ${(err as Error).message}\n`);
      setExitCode(1);
    }
  };
}

/** A YAML or JSON document from a file, for bodies of management calls. @throws ManagementError, ConfigError. */
export async function readDocumentFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ManagementError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, undefined, undefined);
  }
  return parseYaml(text, file) ?? {};
}
