// @sibyl/server/testing/contracts: the contract suites (vitest) that every adapter of an interface
// passes — runtimes, model stores, prediction stores and sinks, response caches, state stores, rate limiters. An adapter's test
// file calls the suite with a way to open the adapter. A subpath of its own, so that importing
// @sibyl/server/testing does not load vitest.
export { describePredictionSinkContract } from './prediction-sink-contract.ts';
export type { SinkUnderTest } from './prediction-sink-contract.ts';
export { modelStoreContract } from './model-store-contract.ts';
export type { ModelStoreUnderTest, ModelStoreWriter } from './model-store-contract.ts';
export { predictionStoreContract } from './prediction-store-contract.ts';
export { responseCacheContract } from './response-cache-contract.ts';
export { runtimeContract } from './runtime-contract.ts';
export type { RowsOf, RuntimeContractSubject } from './runtime-contract.ts';
export { stateStoreContract } from './state-store-contract.ts';
export { rateLimiterContract, SettableClock } from './rate-limiter-contract.ts';
export type { RateLimiterUnderTest } from './rate-limiter-contract.ts';
