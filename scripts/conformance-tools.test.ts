// The conformance project fails loudly without its tools, and the unit project (`npm test`)
// holds no suite that needs them.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import config from '../vitest.config.ts';
import { conformanceTools, missingConformanceTools } from './conformance-tools.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function testFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await testFiles(path)));
    else if (entry.name.endsWith('.test.ts')) out.push(relative(ROOT, path));
  }
  return out;
}

describe('conformance tools', () => {
  it('names each missing tool, where it was looked for, and how to install it', async () => {
    const missing = await missingConformanceTools({ chromium: '/nonexistent/chromium', python: '/nonexistent/python3' });
    expect(missing).toHaveLength(2);
    expect(missing[0]).toMatch(/^no executable Chromium at \/nonexistent\/chromium .*install with: apt-get install chromium python3-grpcio/);
    expect(missing[1]).toMatch(/^\/nonexistent\/python3 cannot import grpc, grpc_tools and google\.protobuf .*install with: apt-get install/);
  });

  it('defaults to Debian paths, overridable by the environment', () => {
    expect(conformanceTools({})).toEqual({ chromium: '/usr/bin/chromium', python: '/usr/bin/python3' });
    expect(conformanceTools({ SIBYL_TEST_CHROMIUM: '/opt/c', SIBYL_TEST_PYTHON: '/opt/p' })).toEqual({ chromium: '/opt/c', python: '/opt/p' });
  });

  it('the conformance project checks the tools before its tests', () => {
    const projects = (config.test?.projects ?? []) as { test: { name: string; include: string[]; exclude?: string[]; globalSetup?: string[] } }[];
    const conformance = projects.find((p) => p.test.name === 'conformance')!;
    expect(conformance.test.globalSetup).toEqual(['scripts/conformance-setup.ts']);
    expect(projects.find((p) => p.test.name === 'unit')!.test.exclude).toContain(conformance.test.include[0]);
  });

  it('no suite outside the conformance project launches Chromium or needs python grpcio', async () => {
    const files = [...(await testFiles(join(ROOT, 'packages'))), ...(await testFiles(join(ROOT, 'scripts')))].filter((f) => !f.endsWith('.conformance.test.ts'));
    expect(files.length).toBeGreaterThan(50);
    const offenders: string[] = [];
    for (const f of files) {
      if (f === relative(ROOT, fileURLToPath(import.meta.url))) continue;
      const text = await readFile(join(ROOT, f), 'utf8');
      if (/playwright-core|\/usr\/bin\/chromium|\/usr\/bin\/python3|grpc_tools|conformanceTools\(/.test(text)) offenders.push(f);
    }
    expect(offenders).toEqual([]);
  });
});
