// `sibyl snapshot` and `sibyl restore`: export and import the state store (labels, explicit
// loads, last known good versions), through a running server (--url, applied at once) or
// straight from its SQLite file while no server uses it (--state-store).
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SqliteStateStore } from '../state/sqlite-state-store.ts';
import { parseStateSnapshot, type StateSnapshot } from '../state/state-store.ts';
import { CliError, managementClient, refusalText, serverUrl, type CliIo } from './management-action.ts';

interface Target {
  url?: string;
  stateStore?: string;
}

const entryCount = (s: StateSnapshot): number => Object.values(s.entries).reduce((n, keys) => n + Object.keys(keys).length, 0);

export function registerStateCommands(program: Command, setExitCode: (code: number) => void, io: CliIo = process): void {
  const guarded = (fn: (target: Target, command: Command) => Promise<string>) => async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const target = command.opts<Target>();
    try {
      io.stdout.write(`${await fn(target, command)}\n`);
      setExitCode(0);
    } catch (err) {
      io.stderr.write(`sibyl: ${refusalText(err, serverUrl(target.url, io.env)) ?? (err as Error).message}\n`);
      setExitCode(1);
    }
  };

  program
    .command('snapshot')
    .description('Export the state store (labels, explicit loads, last known good versions) as JSON.')
    .option('--url <url>', 'a running server (default: SIBYL_URL, else http://127.0.0.1:8000)')
    .option('--state-store <file>', 'read the SQLite file directly instead (no server may be using it)')
    .option('-o, --output <file>', 'write the snapshot to a file instead of stdout')
    .action(
      guarded(async (target, command) => {
        const snapshot =
          target.stateStore !== undefined
            ? await withStore(target.stateStore, (s) => s.export())
            : await managementClient(serverUrl(target.url, io.env), io.env).state.export();
        const text = JSON.stringify(snapshot, null, 2);
        const output = command.opts<{ output?: string }>().output;
        if (output === undefined) return text;
        await writeFile(output, `${text}\n`);
        return `wrote ${entryCount(snapshot)} entries to ${output}`;
      }),
    );

  program
    .command('restore')
    .argument('<file>', "a snapshot written by 'sibyl snapshot'")
    .description('Replace the state store with a snapshot; a running server applies it at once.')
    .option('--url <url>', 'a running server (default: SIBYL_URL, else http://127.0.0.1:8000)')
    .option('--state-store <file>', 'write the SQLite file directly instead (no server may be using it)')
    .action(
      guarded(async (target, command) => {
        const file = command.args[0]!;
        let document: unknown;
        try {
          document = JSON.parse(await readFile(file, 'utf8'));
        } catch (err) {
          throw new CliError(`cannot read the snapshot ${file}: ${(err as Error).message}`);
        }
        const snapshot = parseStateSnapshot(document, file);
        if (target.stateStore !== undefined) await withStore(target.stateStore, (s) => s.import(snapshot));
        else await managementClient(serverUrl(target.url, io.env), io.env).state.restore(snapshot);
        return `restored ${entryCount(snapshot)} entries from ${file}`;
      }),
    );
}

async function withStore<T>(file: string, fn: (store: SqliteStateStore) => Promise<T>): Promise<T> {
  const store = await SqliteStateStore.open(file);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
