import { defineConfig } from 'vitest/config';

// Three projects:
// - `unit` (`npm test`): needs nothing installed beyond `npm ci` — the README's test command.
// - `integration` (`npm run test:integration`): needs PostgreSQL, Redis, NATS, MQTT… on 127.0.0.1.
// - `conformance` (`npm run test:conformance`): drives software the repository cannot ship
//   (Debian's chromium, python3-grpcio; scripts/conformance-tools.ts). Its files are named
//   `*.conformance.test.ts`; the run fails before any test when a tool is missing.
const CONFORMANCE = 'packages/*/test/**/*.conformance.test.ts';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['**/test/integration/**', CONFORMANCE, '**/node_modules/**'],
          pool: 'forks',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/integration/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'conformance',
          include: [CONFORMANCE],
          globalSetup: ['scripts/conformance-setup.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
