// Every package `npm ci` installs supports the oldest Node the project promises (package.json
// `engines.node`), so a supported machine installs without EBADENGINE warnings and runs what it
// installed. cookie 2 (Node ≥ 22, through Fastify's light-my-request) broke this; it is pinned to
// 1.1.1 by `overrides`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

interface Semver {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
}
const semver = createRequire(import.meta.url)('semver') as Semver;

interface Lock {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean; os?: string[] }>;
}

const ROOT = new URL('../', import.meta.url);
const rootPackage = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { engines: { node: string }; overrides: Record<string, string> };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', ROOT), 'utf8')) as Lock;

describe('package engines', () => {
  it('every locked package supports the oldest Node of engines.node', () => {
    const oldest = semver.minVersion(rootPackage.engines.node)!.version;
    expect(oldest).toBe('20.19.0');
    const refusing = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && !Array.isArray(p.engines) && p.engines?.node !== undefined && !semver.satisfies(oldest, p.engines.node))
      .map(([path, p]) => `${path}@${p.version} needs node ${(p.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });

  it('cookie is the Node 18+ release light-my-request can use', () => {
    expect(rootPackage.overrides.cookie).toBe('1.1.1');
    expect(lock.packages['node_modules/cookie']?.version).toBe('1.1.1');
  });
});
