// The plumbing of the CLI's management subcommands: which server (--url, SIBYL_URL), one
// @sibyl/client SibylManagement to call it, and how a refusal reads on stderr. The HTTP calls
// and the JSON shapes are the client's and the protocol's, not the CLI's.
import { readFile } from 'node:fs/promises';
import { ClientError, SibylManagement } from '@sibyl/client';
import type { Command } from 'commander';
import { parseYaml } from '../config/yaml-file.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export const DEFAULT_URL = 'http://127.0.0.1:8000';

/** A refusal of the CLI itself (bad arguments, an unreadable file): printed as `sibyl: <message>`, exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** The server URL: --url, else SIBYL_URL, else the default; without a trailing slash. */
export function serverUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return (flag ?? env.SIBYL_URL ?? DEFAULT_URL).replace(/\/+$/, '');
}

/**
 * The management client of the server at `base`, as a person at a terminal uses it: no deadline
 * (a load may take minutes) and no retries (one request per command, as they typed it). With
 * SIBYL_API_KEY (an API key or a JWT) in `env`, every call carries it as a bearer credential (an
 * environment variable, not a flag: flags show in `ps` and shell history).
 */
export function managementClient(base: string, env: NodeJS.ProcessEnv = process.env): SibylManagement {
  const credential = env.SIBYL_API_KEY;
  return new SibylManagement(base, { timeoutMs: 0, retry: false, headers: credential === undefined || credential === '' ? undefined : { authorization: `Bearer ${credential}` } });
}

/**
 * The text after `sibyl: ` for an error of a management call, or undefined when `err` is not one
 * the CLI reports (a bug: it propagates). The server's refusals read `<message> (<REASON>)`.
 */
export function refusalText(err: unknown, base: string): string | undefined {
  if (err instanceof ClientError) {
    if (err.status === undefined && err.code === 'UNAVAILABLE') {
      const fetchError = err.cause as { message?: string; cause?: { code?: string; message?: string } } | undefined;
      const why = fetchError?.cause?.code ?? fetchError?.cause?.message ?? fetchError?.message ?? err.message;
      return `cannot reach the server at ${base}: ${why}; is 'sibyl serve' running there? (set --url or SIBYL_URL)`;
    }
    return err.reason === undefined || err.reason === 'MALFORMED_RESPONSE' ? err.message : `${err.message} (${err.reason})`;
  }
  if (err instanceof CliError || (err instanceof Error && err.name === 'ConfigError')) return err.message;
  return undefined;
}

/** Adds the --url option every management subcommand takes. */
export function withUrl(command: Command): Command {
  return command.option('--url <url>', 'the server (default: SIBYL_URL, else http://127.0.0.1:8000)');
}

/**
 * A subcommand's action: `fn` gets the management client of the server and the command (its args
 * and opts) and returns the text for stdout; exit code 0. A refusal or an unreachable server
 * prints `sibyl: <why>` on stderr, exit code 1.
 */
export function managementAction(io: CliIo, setExitCode: (code: number) => void, fn: (server: SibylManagement, command: Command) => Promise<string>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const base = serverUrl(command.opts<{ url?: string }>().url, io.env);
    try {
      const out = await fn(managementClient(base, io.env), command);
      if (out !== '') io.stdout.write(`${out}\n`);
      setExitCode(0);
    } catch (err) {
      const text = refusalText(err, base);
      if (text === undefined) throw err;
      io.stderr.write(`sibyl: ${text}\n`);
      setExitCode(1);
    }
  };
}

/** A YAML or JSON document from a file, for bodies of management calls. @throws CliError, ConfigError. */
export async function readDocumentFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parseYaml(text, file) ?? {};
}
