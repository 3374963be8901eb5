// `sibyl batch lookup <model> <key...>`: stored predictions by key from a running server
// (POST /v1/predictions/{model}/lookup). Exit codes: 0 every key found, 1 some key has no stored
// prediction (listed on stderr) or the server refused or could not be reached, 2 usage errors.
import type { StoredPredictionJson } from '@sibyl/protocol';
import type { Command } from 'commander';
import { managementClient, refusalText, serverUrl, withUrl, type CliIo } from './management-action.ts';
import { formatTable } from './table.ts';

/** An age as people read it: 850ms, 42s, 17m, 5.2h, 3.1d. */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  return `${(ms / 86_400_000).toFixed(1)}d`;
}

/** Outputs on one line: `probabilities=[0.12,0.88] label=[1]`, long data cut with `…`. */
export function formatOutputs(outputs: StoredPredictionJson['outputs'], maxValues = 8): string {
  const value = (v: number | string | boolean): string => (typeof v === 'number' ? String(Number(v.toPrecision(6))) : JSON.stringify(v));
  return outputs.map((o) => `${o.name}=[${o.data.slice(0, maxValues).map(value).join(',')}${o.data.length > maxValues ? ',…' : ''}]`).join(' ');
}

/** Adds `lookup` to the `batch` command group. */
export function addBatchLookupCommand(batch: Command, setExitCode: (code: number) => void, io: CliIo = process): Command {
  return withUrl(
    batch
      .command('lookup')
      .argument('<model>', 'the model whose predictions a batch job stored')
      .argument('<key...>', 'keys (several key columns joined with |, e.g. acme|42)')
      .description('Print stored predictions by key, with their version, age and job, from a running server.'),
  )
    .option('--json', "print the server's JSON")
    .addHelpText('after', '\nExamples:\n  sibyl batch lookup churn c-1001 c-1002\n  sibyl batch lookup churn c-1001 --json --url http://scores:8000')
    .action(async (model: string, keys: string[], options: { url?: string; json?: boolean }) => {
      const base = serverUrl(options.url, io.env);
      try {
        const found = await managementClient(base, io.env).jobs.lookup(model, keys);
        if (options.json === true) io.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
        else if (found.predictions.length > 0) {
          const rows = found.predictions.map((p) => [p.key, p.version, formatAge(p.ageMs), p.createdAt, p.jobId, formatOutputs(p.outputs)]);
          io.stdout.write(`${formatTable(['KEY', 'VERSION', 'AGE', 'CREATED', 'JOB', 'OUTPUTS'], rows)}\n`);
        }
        if (found.missing.length > 0) io.stderr.write(`sibyl: no stored prediction of ${model} for ${found.missing.length === 1 ? 'key' : `${found.missing.length} keys`}: ${found.missing.join(', ')}\n`);
        setExitCode(found.missing.length > 0 ? 1 : 0);
      } catch (err) {
        const text = refusalText(err, base);
        if (text === undefined) throw err;
        io.stderr.write(`sibyl: ${text}\n`);
        setExitCode(1);
      }
    });
}

/** Registers `sibyl batch lookup`, under the `batch` group (created here when no other command made it). */
export function registerBatchLookupCommand(program: Command, setExitCode: (code: number) => void, io: CliIo = process): Command {
  const batch = program.commands.find((c) => c.name() === 'batch') ?? program.command('batch').description('Batch prediction jobs and their stored predictions.');
  return addBatchLookupCommand(batch, setExitCode, io);
}
