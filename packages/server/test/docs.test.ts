import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedDocs } from '../../../scripts/generate-docs.ts';
import { serverConfigDefaults } from '../src/config/server-config.ts';
import type { SibylServer } from '../src/server.ts';
import { ScriptedRuntime, createTestServer, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

const ROOT = new URL('../../../', import.meta.url);

describe('generated reference documents', () => {
  // Fails when a schema or the error catalogue changed without `npm run docs`.
  for (const [file, expected] of Object.entries(generatedDocs())) {
    it(`${file} is up to date (run \`npm run docs\` if not)`, () => {
      expect(readFileSync(new URL(file, ROOT), 'utf8')).toBe(expected);
    });
  }

  it('the error reference lists every reason', () => {
    const errors = generatedDocs()['docs/reference/errors.md']!;
    for (const reason of ['MODEL_NOT_FOUND', 'BODY_TOO_LARGE', 'INPUT_SHAPE_MISMATCH', 'INSTANCE_CRASHED']) expect(errors).toContain(`\`${reason}\``);
    expect(errors).toContain('| `BODY_TOO_LARGE` | `RESOURCE_EXHAUSTED` | 413 |');
  });
});

/** Every path the HTTP app serves, from Fastify's route tree (`:param` written `{}`). */
function servedPaths(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)(?:├── |└── )(\S+) \(/.exec(line);
    if (m === null) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const segment = m[2] === '*' ? '/*' : m[2]!;
    stack.push(segment);
    out.push(stack.join('').replace(/:[^/]+/g, '{}'));
  }
  return out;
}

/** The paths a documented path stands for: `[a\|b]` is optional with alternatives; `{name}` any segment; `…` anything. */
function expand(documented: string): string[] {
  const group = /\[([^\]]*)\]/.exec(documented);
  if (group === null) return [documented.replace(/\{[^}]*\}/g, '{}')];
  const alternatives = ['', ...group[1]!.split('\\|')];
  return alternatives.flatMap((a) => expand(documented.slice(0, group.index) + a + documented.slice(group.index + group[0].length)));
}

function covers(pattern: string, path: string): boolean {
  const p = pattern.split('/');
  const s = path.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '…') return true;
    if (i >= s.length) return false;
    if (p[i] === '{}') continue; // a documented parameter stands for any segment, literal or not
    if (p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

describe('the REST reference', () => {
  let repo: string;
  let server: SibylServer;

  beforeAll(async () => {
    repo = await makeTempDir('sibyl-docs-routes-');
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    server = await createTestServer(repo, { runtime: new ScriptedRuntime() });
  });

  afterAll(async () => {
    await server?.shutdown();
    await removeDir(repo);
  });

  it('lists every route the HTTP app serves in one of its tables', () => {
    const text = readFileSync(new URL('docs/reference/rest-api.md', ROOT), 'utf8');
    const documented = [...text.matchAll(/^\|[^|\n]*\| \[?`(\/[^`]*)`/gm), ...text.matchAll(/^\| `(?:[A-Z]+ )?(\/[^` ?]*)/gm), ...text.matchAll(/^### `(?:[A-Z]+(?: and [A-Z]+)? )?(\/[^`]*)`/gm)]
      .map((m) => m[1]!)
      .flatMap(expand);
    const served = servedPaths(server.http.printRoutes({ commonPrefix: false }));
    expect(served.length).toBeGreaterThan(30);
    expect(served.filter((path) => !documented.some((pattern) => covers(pattern, path)))).toEqual([]);
  });
});

describe('the quick start', () => {
  it('says how many models load at once, as the default configuration does', () => {
    const text = readFileSync(new URL('docs/quick-start.md', ROOT), 'utf8');
    const concurrency = serverConfigDefaults('/repo').modelLoadConcurrency;
    expect(concurrency).toBe(2);
    expect(text).toContain('Models load two at a time, started in name order (`--model-load-concurrency`, default 2');
    expect(text).not.toMatch(/load one after another|one at a time/);
  });
});
