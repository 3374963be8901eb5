// The contract suites are reachable the way a user's adapter test imports them.
import { describe, expect, it } from 'vitest';

describe('@sibyl/server/testing/contracts', () => {
  it('exports every contract suite', async () => {
    const contracts = await import('@sibyl/server/testing/contracts');
    expect(Object.keys(contracts).sort()).toEqual(['SettableClock', 'describePredictionSinkContract', 'modelStoreContract', 'predictionStoreContract', 'rateLimiterContract', 'responseCacheContract', 'runtimeContract', 'stateStoreContract']);
    for (const suite of Object.values(contracts)) expect(typeof suite).toBe('function');
  });
});
