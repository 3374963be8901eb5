// `sibyl bench`: flags → runBench(), progress on stderr, the summary on stdout, and the
// optional JSON results and SVG chart. Exit codes: 0 the run completed (even with HTTP errors),
// 1 the server was unreachable or its metadata unusable (or an output file could not be
// written), 2 usage errors. Ctrl-C stops the run early and still reports what was measured.
// The same command backs `sibyl bench` (the server's CLI imports this module only when `bench`
// is the command, so it adds nothing to the start-up of `sibyl serve`) and `sibyl-bench`. Only
// the flag definitions load with it; the load generator is imported when the command runs.
import { access, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { BenchFlags } from './args.ts';
import { addBenchFlags, benchOptionsFromFlags } from './args.ts';
import { BenchError } from './errors.ts';

export interface BenchIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** The help after the flags; `invocation` is how the user called the command (`sibyl bench`). */
const helpAfter = (invocation: string): string => `
Modes:
  closed loop (default)  --concurrency N connections, each sending its next request when the last completes
  open loop              --rate R requests/s on a schedule; requests that would exceed --max-in-flight are
                         not sent and are reported, as are requests sent late (> 2 ms behind schedule)

Inputs come from the model metadata (GET /v2/models/{model}): random data by datatype (floats in
[0, 1), integers in [0, 100), BYTES of --string-length lowercase letters), seeded, encoded once.

Examples:
  ${invocation} --model resnet18 --binary --concurrency 8
  ${invocation} --url http://triton:8000 --model bert --shape input_ids:1,128 --rate 200 --duration-seconds 60
  ${invocation} --model m --input-file request.json --output results.json --chart latency.svg`;

/** Fails fast, before a long run, if `file` could not be written later. */
async function checkWritable(flag: string, file: string | undefined): Promise<void> {
  if (file === undefined) return;
  const dir = path.dirname(path.resolve(file));
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new BenchError('usage', `${flag} ${file}: the folder ${dir} does not exist or is not writable`);
  }
}

/** The command's one-line description (`sibyl --help` lists it). */
export const BENCH_DESCRIPTION = 'Load-test a model on any Open Inference Protocol (KServe V2) server and report throughput and latency.';

/**
 * Makes `command` the bench command: its description, flags, help and action. It may be a
 * program's subcommand (`sibyl bench`) or a program of its own (`sibyl-bench`); the help names
 * it as called. `setExitCode` receives the command's exit code (0 or 1); usage errors go through
 * commander (command.error), which the program maps to exit code 2.
 */
export function configureBenchCommand(command: Command, setExitCode: (code: number) => void, io: BenchIo = process): Command {
  const invocation = command.parent === null ? command.name() : `${command.parent.name()} ${command.name()}`;
  command.description(BENCH_DESCRIPTION);
  addBenchFlags(command).addHelpText('after', helpAfter(invocation)).showHelpAfterError(`(${invocation} --help lists the flags)`);
  command.action(async (flags: BenchFlags) => {
    try {
      setExitCode(await bench(flags, io));
    } catch (e) {
      if (e instanceof BenchError && e.kind === 'usage') command.error(`error: ${e.message}`, { exitCode: 2, code: 'commander.benchUsage' });
      throw e;
    }
  });
  return command;
}

async function bench(flags: BenchFlags, io: BenchIo): Promise<number> {
  const { options, cli } = benchOptionsFromFlags(flags);
  const [{ formatProgress, useColor }, { runBench }, { formatSummary }, { renderLatencyChart }] = await Promise.all([
    import('./progress.ts'),
    import('./run-bench.ts'),
    import('./summary.ts'),
    import('./svg-chart.ts'),
  ]);
  await checkWritable('--output', cli.output);
  await checkWritable('--chart', cli.chart);
  const color = useColor(io.stderr, io.env);
  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    io.stderr.write('sibyl bench: interrupted; finishing outstanding requests (Ctrl-C again to quit now)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await runBench(options, {
      signal: abort.signal,
      onPrepared: (run, config) => {
        if (cli.quiet) return;
        const mode = config.mode.kind === 'closed' ? `${config.mode.concurrency} connections` : `${config.mode.ratePerSecond} req/s (${config.mode.arrival})`;
        io.stderr.write(`sibyl bench: ${run.description.distinct} request bodies ready; ${mode}, ${config.warmupSeconds} s warm-up + ${config.durationSeconds} s\n`);
      },
      onProgress: cli.quiet ? undefined : (p) => io.stderr.write(formatProgress(p, color) + '\n'),
    });
    io.stdout.write(formatSummary(result));
    let code = 0;
    for (const [file, text] of [
      [cli.output, () => JSON.stringify(result, null, 2) + '\n'],
      [cli.chart, () => renderLatencyChart(result)],
    ] as const) {
      if (file === undefined) continue;
      try {
        await writeFile(file, text());
        io.stderr.write(`sibyl bench: wrote ${file}\n`);
      } catch (e) {
        io.stderr.write(`sibyl bench: cannot write ${file}: ${(e as Error).message}\n`);
        code = 1;
      }
    }
    return code;
  } catch (e) {
    if (e instanceof BenchError && e.kind !== 'usage') {
      io.stderr.write(`sibyl bench: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
