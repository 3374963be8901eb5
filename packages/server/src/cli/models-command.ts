// `sibyl models list|show|load|unload|label|rollback`: model management of a running server
// through its management API (docs/reference/rest-api.md, model lifecycle). Exit codes: 0 done,
// 1 the server refused or could not be reached (the message says why), 2 usage errors.
import type { SibylManagement } from '@sibyl/client';
import type { ModelStatusJson } from '@sibyl/protocol';
import type { Command } from 'commander';
import { CliError, managementAction, readDocumentFile, withUrl, type CliIo } from './management-action.ts';
import { formatTable } from './table.ts';

/** One row per version: its labels, a `*` on the version unaddressed requests go to. */
export function modelRows(models: readonly ModelStatusJson[]): string {
  const rows = models.flatMap((m) => {
    if (m.versions.length === 0) return [[m.name, '-', 'UNAVAILABLE', '', '', m.problem]];
    return m.versions.map((v) => {
      const labels = Object.entries(m.labels)
        .filter(([, l]) => l.version === v.version)
        .map(([name]) => name);
      const version = `${v.version}${m.default_version === v.version ? '*' : ''}`;
      return [m.name, version, v.state, labels.join(','), v.load_ms === null ? '' : String(v.load_ms), v.reason];
    });
  });
  return formatTable(['MODEL', 'VERSION', 'STATE', 'LABELS', 'LOAD_MS', 'REASON'], rows);
}

export function registerModelsCommand(program: Command, setExitCode: (code: number) => void, io: CliIo = process): Command {
  const models = program.command('models').description('Manage the models of a running server: list, load, unload, label, roll back.');
  models.addHelpText(
    'after',
    `
Every subcommand talks to a running 'sibyl serve' at --url (default: SIBYL_URL, else http://127.0.0.1:8000).

Examples:
  sibyl models list
  sibyl models load churn                    # explicit mode: load (or reload) a model
  sibyl models label churn stable 3          # point 'stable' at version 3 (loaded first if needed)
  sibyl models rollback churn                # move 'stable' back to its previous version`,
  );

  const run = (fn: (server: SibylManagement, command: Command) => Promise<string>) => managementAction(io, setExitCode, fn);

  withUrl(models.command('list').description('Every model and version with state, labels, load time and reason; * marks where unaddressed requests go.'))
    .option('--json', 'print the server\'s JSON')
    .action(
      run(async (server, command) => {
        const list = await server.models.list();
        return command.opts<{ json?: boolean }>().json === true ? JSON.stringify(list, null, 2) : modelRows(list);
      }),
    );

  withUrl(models.command('show').argument('<model>').description('One model: versions, labels with their history, problems and warnings.'))
    .option('--json', 'print the server\'s JSON')
    .action(
      run(async (server, command) => {
        const model = await server.models.status(command.args[0]!);
        if (command.opts<{ json?: boolean }>().json === true) return JSON.stringify(model, null, 2);
        const labels = Object.entries(model.labels).map(([l, v]) => `  ${l} → ${v.version} (${v.source}${v.history.length > 0 ? `; earlier: ${v.history.join(', ')}` : ''})`);
        return [
          modelRows([model]),
          ...(labels.length > 0 ? ['', 'labels:', ...labels] : []),
          ...(model.problem !== '' ? ['', `problem: ${model.problem}`] : []),
          ...model.warnings.map((w) => `warning: ${w}`),
        ].join('\n');
      }),
    );

  withUrl(models.command('load').argument('<model>').description('Load a model, or load it again with its current files (explicit mode).'))
    .option('--config <file>', 'a model config (YAML or JSON) to use in place of its config.yaml')
    .action(
      run(async (server, command) => {
        const name = command.args[0]!;
        const file = command.opts<{ config?: string }>().config;
        await server.models.load(name, { config: file === undefined ? undefined : await readDocumentFile(file) });
        return modelRows([await server.models.status(name)]);
      }),
    );

  withUrl(models.command('unload').argument('<model>').description('Unload every version of a model once its requests finish (explicit mode).')).action(
    run(async (server, command) => {
      const name = command.args[0]!;
      await server.models.unload(name);
      return `${name}: unloaded`;
    }),
  );

  withUrl(
    models
      .command('label')
      .argument('<model>')
      .argument('<label>')
      .argument('[version]')
      .description('Point a label at a version (it loads first if needed, then the label moves at once), or --delete it.'),
  )
    .option('--delete', 'remove a label set through the API')
    .action(
      run(async (server, command) => {
        const [name, label, version] = command.args as [string, string, string | undefined];
        if (command.opts<{ delete?: boolean }>().delete === true) {
          await server.models.deleteLabel(name, label);
          return `${name}: label ${label} deleted`;
        }
        if (version === undefined) {
          const { labels } = await server.models.labels(name);
          const l = labels[label];
          if (l === undefined) throw new CliError(`model '${name}' has no label '${label}'; its labels are ${Object.keys(labels).join(', ') || 'none'}`);
          return `${name}: ${label} → ${l.version} (${l.source})`;
        }
        const moved = await server.models.moveLabel(name, label, version);
        return `${name}: ${label} → ${moved.version}${moved.history.length > 0 ? ` (was ${moved.history.at(-1)})` : ''}`;
      }),
    );

  withUrl(models.command('rollback').argument('<model>').description('Move a label (default: stable) back to its previous version.'))
    .option('--label <label>', 'the label to roll back', 'stable')
    .action(
      run(async (server, command) => {
        const name = command.args[0]!;
        const label = command.opts<{ label: string }>().label;
        const result = await server.models.rollback(name, label);
        return `${name}: ${label} → ${result.version} (rolled back from ${result.previous_version})`;
      }),
    );
  return models;
}
