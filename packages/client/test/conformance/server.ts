// The server both conformance suites run against: the real `sibyl` binary on free ports, serving
// the conformance models (conformance/models.ts), and a closed port for the unreachable cases.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  addSubModel,
  corruptModelBytes,
  identityModel,
  linearClassifierModel,
  makeTempDir,
  removeDir,
  slowModel,
  spawnSibyl,
  writeModelRepository,
  type SpawnedServer,
} from '@sibyl/server/testing';
import { IDENTITY_DATATYPES, LABELLED_WEIGHTS, LINEAR, SLOW, identityModelName } from './models.ts';

const SLOW_CONFIG = 'maxBatchSize: 64\ndynamicBatching:\n  enabled: false\nexecutionsPerInstance: 1\n';

export interface ConformanceServer {
  server: SpawnedServer;
  /** A port that was free a moment ago and that nobody listens on now. */
  unreachablePort: number;
  /** Stops the server (asserting a clean exit is the caller's business) and removes its repository. */
  close(): Promise<number | null>;
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Writes the conformance repository and starts `sibyl serve` on it; `extraArgs` are added to its flags. */
export async function startConformanceServer(extraArgs: readonly string[] = []): Promise<ConformanceServer> {
  const repo = await makeTempDir('sibyl-conformance-');
  try {
    await writeModelRepository(repo, {
      ...Object.fromEntries(IDENTITY_DATATYPES.map((d) => [identityModelName(d), { versions: { 1: identityModel(d, ['batch', 4]).bytes } }])),
      linear: { versions: { 1: linearClassifierModel(LINEAR).bytes } },
      addsub: { versions: { 1: addSubModel().bytes } },
      corrupt: { versions: { 1: corruptModelBytes() } },
      labelled: {
        versions: { 1: linearClassifierModel({ weights: LABELLED_WEIGHTS[1]!, bias: [0] }).bytes, 2: linearClassifierModel({ weights: LABELLED_WEIGHTS[2]!, bias: [0] }).bytes },
        config: 'versionPolicy:\n  all: true\nlabels:\n  stable: 1\n  canary: 2\n',
      },
      slow_deadline: { versions: { 1: slowModel(SLOW).bytes }, config: SLOW_CONFIG },
      slow_queue: { versions: { 1: slowModel(SLOW).bytes }, config: `${SLOW_CONFIG}maxQueueSize: 1\n` },
    });
    const unreachablePort = await closedPort();
    const server = await spawnSibyl(['--model-repository', repo, '--state-store', ':memory:', ...extraArgs], { timeoutMs: 90_000 });
    return {
      server,
      unreachablePort,
      close: async () => {
        const code = await server.stop();
        await removeDir(repo);
        return code;
      },
    };
  } catch (err) {
    await removeDir(repo);
    throw err;
  }
}
