import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../testing/index.ts';
import { allowedJobFile, allowedRejectsFile, allowedSourceFile, isInside, realpathLoose, type JobSandbox } from './job-sandbox.ts';

let dir: string;
let sandbox: JobSandbox;

beforeAll(async () => {
  dir = await makeTempDir('sibyl-job-sandbox-');
  await mkdir(path.join(dir, 'data'));
  await mkdir(path.join(dir, 'jobs'));
  await mkdir(path.join(dir, '.sibyl'));
  await writeFile(path.join(dir, 'data', 'rows.csv'), 'id\n1\n');
  await writeFile(path.join(dir, '.sibyl', 'state.sqlite'), '');
  await symlink('/etc', path.join(dir, 'data', 'etc'));
  await symlink(path.join(dir, 'data'), path.join(dir, 'alias'));
  await symlink(path.join(dir, '.sibyl', 'state.sqlite'), path.join(dir, 'data', 'state-link.csv'));
  sandbox = { sourceRoots: [path.join(dir, 'data')], jobFileRoots: [path.join(dir, 'jobs')], dataDir: path.join(dir, '.sibyl'), privateFiles: [path.join(dir, '.sibyl', 'state.sqlite')] };
});

afterAll(async () => {
  await removeDir(dir);
});

describe('isInside', () => {
  it.each([
    ['/a/b', '/a/b/c', true],
    ['/a/b', '/a/b', true],
    ['/a/b', '/a/bc', false],
    ['/a/b', '/a', false],
    ['/a/b', '/a/b/../c', false],
  ])('%s contains %s: %s', (folder, file, expected) => {
    expect(isInside(folder, path.normalize(file))).toBe(expected);
  });
});

describe('the sandbox of a job sent over the API', () => {
  it('follows links of existing prefixes and keeps the rest as written', () => {
    expect(realpathLoose(path.join(dir, 'alias', 'new', 'file.csv'))).toBe(path.join(realpathLoose(dir), 'data', 'new', 'file.csv'));
  });

  it('allows a source inside a root, also through a link to the root', () => {
    expect(allowedSourceFile(sandbox, path.join(dir, 'data', 'rows.csv'), 'source.csv')).toBe(path.join(realpathLoose(dir), 'data', 'rows.csv'));
    expect(allowedSourceFile(sandbox, path.join(dir, 'alias', 'rows.csv'), 'source.csv')).toBe(path.join(realpathLoose(dir), 'data', 'rows.csv'));
  });

  it.each([
    ['/etc/passwd', 'outside the source roots'],
    ['data/etc/passwd', 'outside the source roots'], // a link inside the root to a folder outside
    ['data/../.sibyl/state.sqlite', "the server's own data"],
    ['data/state-link.csv', "the server's own data"], // a link inside the root to the state store
    ['.sibyl/state.sqlite-wal', "the server's own data"],
  ])('refuses %s as a source (%s)', (file, why) => {
    expect(() => allowedSourceFile(sandbox, path.resolve(dir, file), 'source.csv')).toThrow(expect.objectContaining({ reason: 'PATH_NOT_ALLOWED', message: expect.stringContaining(why) }));
  });

  it('refuses every source when no root is configured', () => {
    expect(() => allowedSourceFile({ ...sandbox, sourceRoots: [] }, path.join(dir, 'data', 'rows.csv'), 'source.csv')).toThrow(/sandbox.sourceRoots is empty/);
  });

  it('allows job files in the jobs folder and the roots only', () => {
    expect(allowedJobFile(sandbox, path.join(dir, 'jobs', 'a.yaml'))).toBe(path.join(realpathLoose(dir), 'jobs', 'a.yaml'));
    expect(allowedJobFile(sandbox, path.join(dir, 'data', 'b.yaml'))).toBe(path.join(realpathLoose(dir), 'data', 'b.yaml'));
    expect(() => allowedJobFile(sandbox, '/etc/passwd')).toThrow(expect.objectContaining({ reason: 'PATH_NOT_ALLOWED' }));
    expect(() => allowedJobFile(sandbox, path.join(dir, 'jobs', '..', 'sibyl.yaml'))).toThrow(expect.objectContaining({ reason: 'PATH_NOT_ALLOWED' }));
  });

  it('allows reject files under the data directory only, never over its own files', () => {
    expect(allowedRejectsFile(sandbox, path.join(dir, '.sibyl', 'rejects', 'x.jsonl'))).toBe(path.join(realpathLoose(dir), '.sibyl', 'rejects', 'x.jsonl'));
    for (const file of ['/tmp/x.jsonl', path.join(dir, 'data', 'x.jsonl'), path.join(dir, '.sibyl', 'state.sqlite')]) {
      expect(() => allowedRejectsFile(sandbox, file)).toThrow(expect.objectContaining({ reason: 'PATH_NOT_ALLOWED' }));
    }
  });
});
