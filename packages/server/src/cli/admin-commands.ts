// Commands that read a running server's observability over HTTP: `sibyl predictions` prints the
// prediction log (GET /v1/models/{m}/predictions), `sibyl log-level` reads or sets the log level
// (GET/POST /v2/logging). Exit codes: 0 done, 1 the server refused or could not be reached, 2 usage.
import type { Command } from 'commander';
import type { SibylManagement } from '@sibyl/client';
import type { LogLevel } from '@sibyl/protocol';
import { managementAction, withUrl, type CliIo } from './management-action.ts';

export function registerAdminCommands(program: Command, setExitCode: (code: number) => void, io: CliIo = process): void {
  const action = (fn: (server: SibylManagement, command: Command) => Promise<string>) => managementAction(io, setExitCode, fn);

  withUrl(
    program
      .command('predictions')
      .description('Print records of the prediction log of a running server, oldest first, one JSON object per line.')
      .argument('<model>', 'model whose records to read'),
  )
    .option('--since <time>', 'first time to include: ISO 8601 (2026-01-31T12:00:00Z) or ms since the epoch (default: the beginning)')
    .option('--until <time>', 'first time to exclude (default: now)')
    .option('--version <version>', 'only records of this model version')
    .option('--limit <n>', 'most records to print, 1 to 10000', '100')
    .option('--json', 'print one JSON document {model, predictions} instead of JSON Lines')
    .action(
      action(async (server, command) => {
        const flags = command.opts<{ since?: string; until?: string; version?: string; limit: string; json?: boolean }>();
        const body = await server.models.predictions(command.args[0]!, { limit: flags.limit, since: flags.since, until: flags.until, version: flags.version });
        return flags.json === true ? JSON.stringify(body, null, 2) : body.predictions.map((p) => JSON.stringify(p)).join('\n');
      }),
    );

  withUrl(
    program
      .command('log-level')
      .description('Print the log level of a running server, or set it (takes effect at once, until restart).')
      .argument('[level]', 'fatal|error|warn|info|debug|trace|silent'),
  ).action(
    action(async (server, command) => {
      // An unknown level goes to the server as typed: its refusal lists the levels.
      const level = command.args[0] as LogLevel | undefined;
      return level === undefined ? server.logging.level() : server.logging.setLevel(level);
    }),
  );
}
