// Lint enforces the architecture of ../shared/DESIGN.md: imports point inward, no cycles, no
// deep imports across packages. Not type-aware (fast); `tsc` does the type checking.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const SERVER = './packages/server/src';

// Layers of the server, innermost first. A folder may import only from folders listed before it
// (and from itself). `testing`, `server.ts` and `cli` sit outside: they compose everything.
const LAYERS = [
  'core',
  'config',
  'state',
  'runtimes',
  'repository',
  'scheduling',
  'models',
  'routing',
  'cache',
  'features',
  'batch',
  'streams',
  'observability',
  'security',
  'serving',
  'frontends',
];

const OUTER = ['server.ts', 'index.ts', 'embedded.ts', 'cli', 'testing'];

/** For each layer: every layer after it, plus the composition files, is forbidden. */
const zonesFor = (outer) => LAYERS.flatMap((layer, i) => [
  ...LAYERS.slice(i + 1).map((outer) => ({
    target: `${SERVER}/${layer}`,
    from: `${SERVER}/${outer}`,
    message: `${layer}/ may not import ${outer}/: imports point inward (DESIGN.md, Layout).`,
  })),
  ...outer.map((outer) => ({
    target: `${SERVER}/${layer}`,
    from: `${SERVER}/${outer}`,
    message: `${layer}/ may not import ${outer}: only the composition root and the CLI compose layers.`,
  })),
]);

/**
 * Frontends translate wire formats and call the serving core: of the server they import serving/
 * (the core's API and the vocabulary it names explicitly) and themselves, nothing else
 * (DESIGN.md, Architecture). Their unit tests may also use testing/ and the throttled log.
 */
const frontendZone = (except) => ({
  target: `${SERVER}/frontends`,
  from: SERVER,
  except: ['./serving', './frontends', ...except],
  message: 'frontends/ import the serving core (serving/), @sibyl/protocol and libraries only: reach what you need through serving/ (DESIGN.md, Architecture).',
});

/** What client code may not import: the server, or the protocol's files instead of its exports. */
const CLIENT_IMPORTS = [
  { group: ['@sibyl/server', '@sibyl/server/*', '**/server/src/**'], message: 'the client imports @sibyl/protocol only.' },
  { group: ['**/protocol/src/**', '@sibyl/*/src/**'], message: 'Import @sibyl/protocol, not its files.' },
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'coverage/**', 'bench/models/**', 'bench/results/**', 'examples/**/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'import-x/no-cycle': ['error', { maxDepth: 20 }],
      'import-x/no-self-import': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'No `export *`: list exports explicitly (DESIGN.md, Conventions 8).' },
        { selector: 'TSEnumDeclaration', message: 'Use `as const` objects or literal unions, not enums.' },
      ],
      'import-x/no-restricted-paths': ['error', { zones: [...zonesFor(OUTER), frontendZone([])] }],
    },
  },
  {
    // Unit tests next to the code may use the shared fakes and model builders of testing/.
    files: ['**/*.test.ts'],
    rules: { 'import-x/no-restricted-paths': ['error', { zones: [...zonesFor(OUTER.filter((o) => o !== 'testing')), frontendZone(['./testing', './observability/logging'])] }] },
  },
  {
    // The protocol package is the shared wire contract: it imports nothing of ours and must run in
    // browsers, so no Node built-ins either.
    files: ['packages/protocol/src/**/*.ts'],
    ignores: ['packages/protocol/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@sibyl/*'], message: 'protocol imports nothing of ours.' },
            { group: ['node:*', 'fs', 'path', 'os', 'worker_threads', 'buffer'], message: 'protocol runs in browsers: no Node built-ins.' },
          ],
        },
      ],
    },
  },
  {
    // The client imports the protocol only; its main entry runs in browsers (no Node built-ins,
    // no gRPC): Node-only code lives in src/grpc/, behind the '@sibyl/client/grpc' entry.
    files: ['packages/client/src/**/*.ts'],
    ignores: ['packages/client/src/grpc/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...CLIENT_IMPORTS,
            { group: ['node:*', 'fs', 'path', 'os', 'buffer', '@grpc/*', '**/grpc/**'], message: "the client's main entry runs in browsers: Node-only code goes in src/grpc/." },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/client/src/grpc/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: CLIENT_IMPORTS }],
    },
  },
  {
    // The load generator serves no model: it imports the protocol, never the server.
    files: ['packages/bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@sibyl/server', '@sibyl/server/*', '**/server/src/**', '**/server/test/**'], message: 'the bench imports @sibyl/protocol only: it serves no model.' },
            { group: ['**/protocol/src/**', '@sibyl/*/src/**'], message: 'Import @sibyl/protocol, not its files.' },
          ],
        },
      ],
    },
  },
  {
    // No deep imports across packages: use a package's exports (`@sibyl/protocol`).
    files: ['packages/server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/protocol/src/**', '@sibyl/*/src/**'], message: 'Import @sibyl/protocol, not its files.' }] },
      ],
    },
  },
);
