// `sibyl-bench`: the bench command as a program of its own, for a machine that drives load
// without the server installed. Flags, output and exit codes are those of `sibyl bench`:
// 0 the run completed, 1 the server was unreachable or an output file not written, 2 usage.
import { Command } from 'commander';
import { configureBenchCommand } from './command.ts';

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('sibyl-bench').exitOverride();
  configureBenchCommand(program, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version') return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) return 2;
    throw err;
  }
  return exitCode;
}
