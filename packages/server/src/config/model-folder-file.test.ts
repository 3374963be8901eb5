import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../testing/index.ts';
import { compileModelConfig } from './model-config.ts';
import { configErrorMessage } from '../testing/config-error.ts';

let root: string;
let folder: string;

beforeAll(async () => {
  root = await makeTempDir('sibyl-model-folder-');
  folder = path.join(root, 'repo', 'm');
  await mkdir(path.join(folder, 'data'), { recursive: true });
  await writeFile(path.join(folder, 'data', 'samples.json'), '{}');
  await writeFile(path.join(root, 'secret.csv'), 'a\n1\n');
  await symlink(path.join(root, 'secret.csv'), path.join(folder, 'out-link.csv'));
  await symlink(path.join(folder, 'data', 'samples.json'), path.join(folder, 'in-link.json'));
  await symlink(root, path.join(folder, 'dir-link'));
});

afterAll(async () => {
  await removeDir(root);
});

function compile(document: unknown, source = path.join(folder, 'config.yaml'), override?: string) {
  return compileModelConfig(document, source, override);
}

const problem = configErrorMessage;

const warmup = (samplesFile: string) => ({ warmup: { samplesFile } });
const drift = (baselineFile: string) => ({ drift: { baselineFile } });

describe("files a model config names stay in the model's folder", () => {
  it.each([
    ['a file in the folder', 'data/samples.json', 'data/samples.json'],
    ['a path that climbs and comes back', 'data/../data/samples.json', 'data/samples.json'],
    ['a link to a file inside', 'in-link.json', 'in-link.json'],
    ['a file that does not exist yet (reading it reports that)', 'later.json', 'later.json'],
  ])('accepts %s', (_name, file, expected) => {
    expect(compile(warmup(file)).warmup?.samplesPath).toBe(path.join(folder, expected));
    expect(compile(drift(file)).drift?.baselineFile).toBe(path.join(folder, expected));
  });

  it.each([
    ['an absolute path', () => path.join(root, 'secret.csv'), /is an absolute path; expected a path relative to the model's folder \(.*\) that stays inside it/],
    ['a path climbing out', () => '../../secret.csv', /"\.\.\/\.\.\/secret\.csv" leads outside the model's folder; expected/],
    ['a path climbing out from a subfolder', () => 'data/../../x.csv', /leads outside the model's folder/],
    ['the folder itself', () => '.', /leads outside the model's folder/],
    ['a link to a file outside', () => 'out-link.csv', /"out-link\.csv" is a link to .*secret\.csv, outside the model's folder; expected/],
    ['a file under a link to a folder outside', () => 'dir-link/secret.csv', /is a link to .*secret\.csv, outside the model's folder/],
  ])('refuses %s, naming the file and the field', (_name, file, message) => {
    const source = path.join(folder, 'config.yaml');
    const samples = problem(() => compile(warmup(file())));
    expect(samples.startsWith(`${source}: warmup.samplesFile: `)).toBe(true);
    expect(samples).toMatch(message);
    const baseline = problem(() => compile(drift(file())));
    expect(baseline.startsWith(`${source}: drift.baselineFile: `)).toBe(true);
    expect(baseline).toMatch(message);
  });

  it("a load request's config override resolves in the model's folder, not the server's working directory", () => {
    const source = "load request for 'm' (parameters.config)";
    expect(compile(warmup('data/samples.json'), source, folder).warmup?.samplesPath).toBe(path.join(folder, 'data', 'samples.json'));
    expect(problem(() => compile(drift('/etc/passwd'), source, folder))).toMatch(/^load request for 'm' \(parameters\.config\): drift\.baselineFile: "\/etc\/passwd" is an absolute path/);
  });

  it('reports both fields at once', () => {
    expect(problem(() => compile({ ...warmup('/a'), ...drift('../b') })).split('\n')).toHaveLength(2);
  });
});
