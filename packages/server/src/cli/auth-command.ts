// `sibyl auth hash-key`: the SHA-256 that auth.apiKeys keeps for a key (never the key itself).
// With --new, makes a random key first and prints both: the key once, for the caller, and the
// sibyl.yaml entry. The key is read from stdin when not given, so it stays out of shell history.
import type { Command } from 'commander';
import { hashApiKey, newApiKey } from '../security/api-keys.ts';

interface Io {
  stdin: NodeJS.ReadableStream;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

export function registerAuthCommand(program: Command, setExitCode: (code: number) => void, io: Io = process): void {
  const auth = program.command('auth').description('Authentication helpers (see docs/security.md).');
  auth
    .command('hash-key')
    .description('Print the hex SHA-256 of an API key, for auth.apiKeys.<name>.sha256 in sibyl.yaml. The key is read from stdin unless --new.')
    .option('--new', 'make a new random key and print it with its hash')
    .option('--name <name>', 'principal id for the printed sibyl.yaml entry', 'my-client')
    .option('--scopes <scopes>', 'comma-separated scopes for the printed entry', 'infer:*')
    .action(async (flags: { new?: boolean; name: string; scopes: string }) => {
      const key = flags.new === true ? newApiKey() : (await readAll(io.stdin)).trim();
      if (key === '') {
        io.stderr.write('sibyl auth hash-key: no key on stdin (pipe one in, or pass --new)\n');
        setExitCode(2);
        return;
      }
      const hash = hashApiKey(key);
      if (flags.new === true) io.stdout.write(`key (give it to the client; it is not stored): ${key}\n`);
      const scopes = flags.scopes.split(',').map((s) => s.trim()).filter((s) => s !== '');
      io.stdout.write(`${hash}\n\n# sibyl.yaml\nauth:\n  apiKeys:\n    ${flags.name}:\n      sha256: ${hash}\n      scopes: [${scopes.join(', ')}]\n`);
    });
}
