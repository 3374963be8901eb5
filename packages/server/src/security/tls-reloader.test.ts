import { copyFile, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TlsReloader } from './tls-reloader.ts';
import type { TlsMaterial } from './tls-material.ts';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/tls/', import.meta.url));

let dir: string;
let lines: Record<string, unknown>[];
let reloader: TlsReloader | undefined;

const log = () => pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
const files = () => ({ certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') });

/** Replaces `name` in the folder by renaming a fresh copy of the fixture over it, as certificate tools do. */
async function renameOver(fixture: string, name: string): Promise<void> {
  const staging = join(dir, `.${name}.new`);
  await copyFile(FIXTURES + fixture, staging);
  await rename(staging, join(dir, name));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sibyl-tls-reload-'));
  lines = [];
  await copyFile(FIXTURES + 'test-server.pem', join(dir, 'server.pem'));
  await copyFile(FIXTURES + 'test-server.key', join(dir, 'server.key'));
});

afterEach(async () => {
  reloader?.close();
  reloader = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('TlsReloader', () => {
  it('takes files renamed over the old ones, and tells its listeners once', async () => {
    // A long interval: the test drives the checks.
    reloader = await TlsReloader.create({ files: files(), intervalMs: 3_600_000, log: log() });
    const seen: TlsMaterial[] = [];
    reloader.onChange((m) => seen.push(m));
    expect(await reloader.check()).toBe(false);
    await renameOver('test-server-renewed.key', 'server.key');
    await renameOver('test-server-renewed.pem', 'server.pem');
    expect(await reloader.check()).toBe(true);
    expect(reloader.current.serialNumber).toBe('03EA');
    expect(reloader.current.subject).toContain('CN=localhost-renewed');
    expect(seen.map((m) => m.serialNumber)).toEqual(['03EA']);
    expect(await reloader.check()).toBe(false);
    expect(seen).toHaveLength(1);
    expect(lines.some((l) => l.level === 30 && String(l.msg).includes('new certificate in use') && l.serialNumber === '03EA')).toBe(true);
  });

  it('keeps the old material when the new files do not check out, logs it once, and takes them once fixed', async () => {
    reloader = await TlsReloader.create({ files: files(), intervalMs: 3_600_000, log: log() });
    const seen: TlsMaterial[] = [];
    reloader.onChange((m) => seen.push(m));
    // Half a renewal: the new certificate, the old key.
    await renameOver('test-server-renewed.pem', 'server.pem');
    expect(await reloader.check()).toBe(false);
    expect(await reloader.check()).toBe(false);
    expect(reloader.current.serialNumber).toBe('03E9');
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.field).toBe('tls.keyFile');
    expect(String(errors[0]!.msg)).toMatch(/not the private key of the certificate.*the previous certificate stays in use/);
    // Garbage in place of the key is refused too.
    await writeFile(join(dir, 'server.key'), 'not a key');
    expect(await reloader.check()).toBe(false);
    expect(reloader.current.serialNumber).toBe('03E9');
    await renameOver('test-server-renewed.key', 'server.key');
    expect(await reloader.check()).toBe(true);
    expect(reloader.current.serialNumber).toBe('03EA');
    expect(seen.map((m) => m.serialNumber)).toEqual(['03EA']);
  });

  it('survives a file that disappears, and takes it back when it returns', async () => {
    reloader = await TlsReloader.create({ files: files(), intervalMs: 3_600_000, log: log() });
    await unlink(join(dir, 'server.pem'));
    expect(await reloader.check()).toBe(false);
    expect(await reloader.check()).toBe(false);
    expect(lines.filter((l) => l.level === 50)).toHaveLength(1);
    expect(reloader.current.serialNumber).toBe('03E9');
    await renameOver('test-server-renewed.key', 'server.key');
    await renameOver('test-server-renewed.pem', 'server.pem');
    expect(await reloader.check()).toBe(true);
    expect(reloader.current.serialNumber).toBe('03EA');
  });

  it('polls on its own every intervalMs', async () => {
    reloader = await TlsReloader.create({ files: files(), intervalMs: 100, log: log() });
    const changed = new Promise<TlsMaterial>((resolve) => reloader!.onChange(resolve));
    await renameOver('test-server-renewed.key', 'server.key');
    await renameOver('test-server-renewed.pem', 'server.pem');
    expect((await changed).serialNumber).toBe('03EA');
  });

  it('refuses to start on unusable files, naming the field', async () => {
    await copyFile(FIXTURES + 'test-client.key', join(dir, 'server.key'));
    await expect(TlsReloader.create({ files: files(), intervalMs: 100, log: log() })).rejects.toMatchObject({ field: 'tls.keyFile' });
  });
});
