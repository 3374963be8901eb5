// The client examples of the documentation (examples/client/) run as a newcomer runs them,
// against the real binary serving the example repository: they must keep working.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSibyl, type SpawnedServer } from '@sibyl/server/testing';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX = `${ROOT}node_modules/.bin/tsx`;

let server: SpawnedServer;

beforeAll(async () => {
  server = await spawnSibyl(['--model-repository', `${ROOT}examples/models`, '--state-store', ':memory:'], { timeoutMs: 90_000 });
}, 120_000);

afterAll(async () => {
  if (server !== undefined) expect(await server.stop()).toBe(0);
});

describe('examples/client', () => {
  it('rest.ts classifies the three flowers and shows a refusal with its code and reason', async () => {
    const { stdout } = await run(TSX, [`${ROOT}examples/client/rest.ts`, server.url], { cwd: ROOT });
    expect(stdout.split('\n').filter(Boolean)).toEqual([
      'ready: true',
      '5.1 × 3.4 × 1.5 × 0.2 cm → setosa (p = 1.0000)',
      '7 × 3.2 × 4.7 × 1.4 cm → versicolor (p = 0.9992)',
      '6.3 × 3.4 × 5.6 × 2.4 cm → virginica (p = 0.9997)',
      "refused: INVALID_ARGUMENT INPUT_SHAPE_MISMATCH: input 'features' has shape [1, 3]; model 'iris' expects [-1, 4] (-1: any size)",
    ]);
  }, 60_000);

  it('grpc.ts reads the metadata and classifies a flower over gRPC', async () => {
    const { stdout } = await run(TSX, [`${ROOT}examples/client/grpc.ts`, server.grpcAddress], { cwd: ROOT });
    expect(stdout.split('\n').filter(Boolean)).toEqual(['iris v1: features FP32[-1,4]', 'probabilities: 1.0000 0.0000 0.0000']);
  }, 60_000);
});
