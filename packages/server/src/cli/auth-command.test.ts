import { Readable } from 'node:stream';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../security/api-keys.ts';
import { registerAuthCommand } from './auth-command.ts';

async function run(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const program = new Command().exitOverride();
  let code = 0;
  let out = '';
  let err = '';
  registerAuthCommand(program, (c) => (code = c), { stdin: Readable.from([stdin]), stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } });
  await program.parseAsync(['node', 'sibyl', ...args]);
  return { code, out, err };
}

describe('sibyl auth hash-key', () => {
  it('hashes the key read from stdin, and prints the sibyl.yaml entry', async () => {
    const { code, out } = await run(['auth', 'hash-key', '--name', 'ci', '--scopes', 'read,infer:m'], 'sibyl_my-key\n');
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe(hashApiKey('sibyl_my-key'));
    expect(out).toContain(`    ci:\n      sha256: ${hashApiKey('sibyl_my-key')}\n      scopes: [read, infer:m]`);
    expect(out).not.toContain('sibyl_my-key');
  });

  it('--new makes a key and prints it once with its hash', async () => {
    const { out } = await run(['auth', 'hash-key', '--new']);
    const key = /key \(give it to the client; it is not stored\): (sibyl_\S+)/.exec(out)![1]!;
    expect(out).toContain(hashApiKey(key));
  });

  it('refuses an empty stdin (exit 2)', async () => {
    const { code, err } = await run(['auth', 'hash-key'], '  \n');
    expect(code).toBe(2);
    expect(err).toContain('no key on stdin');
  });
});
