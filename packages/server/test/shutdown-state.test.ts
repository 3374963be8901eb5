// After shutdown, the repository index and request resolution report one and the same state.
import { expect, it } from 'vitest';
import { createTestServer, linearClassifierModel, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

it('a version unloaded at shutdown is UNAVAILABLE everywhere, with the same reason', async () => {
  const repo = await makeTempDir('sibyl-shutdown-');
  try {
    await writeModelRepository(repo, { linear: { versions: { 1: linearClassifierModel({ weights: [[1], [2]], bias: [0] }).bytes } } });
    const server = await createTestServer(repo);
    expect(server.models.index()).toEqual([{ name: 'linear', version: '1', state: 'READY', reason: '' }]);
    await server.shutdown();
    expect(server.models.index()).toEqual([{ name: 'linear', version: '1', state: 'UNAVAILABLE', reason: 'unloaded: server shut down' }]);
    expect(() => server.models.resolve('linear')).toThrow(/is not ready \(UNAVAILABLE: unloaded: server shut down\)/);
  } finally {
    await removeDir(repo);
  }
}, 60_000);
