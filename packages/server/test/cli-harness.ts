// Runs `sibyl` subcommands in process against a server URL, capturing their output and exit code.
import { Command } from 'commander';
import type { CliIo } from '../src/cli/management-action.ts';

type Register = (program: Command, setExitCode: (code: number) => void, io: CliIo) => unknown;

/** A `sibyl(...args)` that runs the commands `register` adds, with SIBYL_URL set to `url()`. */
export function cliRunner(url: () => string, ...register: Register[]): (...args: string[]) => Promise<{ code: number; out: string; err: string }> {
  return async (...args) => {
    let out = '';
    let err = '';
    let code = -1;
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: { SIBYL_URL: url() } } as unknown as CliIo;
    const program = new Command('sibyl').exitOverride();
    for (const r of register) r(program, (c) => (code = c), io);
    await program.parseAsync(['node', 'sibyl', ...args]);
    return { code, out, err };
  };
}
