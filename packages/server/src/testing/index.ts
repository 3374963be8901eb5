// @sibyl/server/testing: what tests (ours and users') need to build models and run servers.
export { createTestServer, readJsonLines, spawnSibyl } from './test-server.ts';
export type { SpawnedServer, TestServerOptions } from './test-server.ts';
export { probeDrain } from './drain-probe.ts';
export type { DrainProbeOptions, DrainProbeResult, Outcomes } from './drain-probe.ts';
export {
  OnnxModelBuilder,
  addSubModel,
  attr,
  corruptModelBytes,
  embeddingExpected,
  embeddingModel,
  fixedBatchModel,
  identityModel,
  linearClassifierExpected,
  linearClassifierModel,
  makeTempDir,
  removeDir,
  runtimeFailureModel,
  sampleValues,
  slowModel,
  slowModelExpected,
  unsupportedOpModel,
  writeModelRepository,
} from './onnx/index.ts';
export { canSimulateCrash } from '../runtimes/onnx/onnx-runtime.ts';
export { ECHO_SIGNATURE, EchoInstance, EchoRuntime } from './echo-runtime.ts';
export { FakeInstance, FakeRuntime } from './fake-runtime.ts';
export type { FakeExecution } from './fake-runtime.ts';
export { ManualClock } from './manual-clock.ts';
export { MemoryModelStore } from '../repository/memory-model-store.ts';
export { MemoryPredictionStore } from './memory-prediction-store.ts';
export { SCRIPTED_SIGNATURE, ScriptedRuntime } from './scripted-runtime.ts';
export { SilentServer } from './silent-server.ts';
export { seededRandom } from '../core/random.ts';
export type { Random } from '../core/random.ts';
export { histogramBuckets, histogramQuantile, parsePrometheusText, sampleValue } from './prometheus-text.ts';
export type { PromFamily, PromSample } from './prometheus-text.ts';
export { JwksServer, signHs256 } from './jwks-server.ts';
export type { TokenOptions } from './jwks-server.ts';
