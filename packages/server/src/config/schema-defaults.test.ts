// Defaults are written once, as the schemas' `default` keywords: the code reads them from there,
// descriptions never repeat them, and the reference renders them. These tests fail when a
// default is written by hand in a description, or when code and schema disagree.
import Type, { type TSchema } from 'typebox';
import Value from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { BatchJobSchema, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS } from './batch-job-config.ts';
import { compileEndpointConfig, EndpointConfigSchema } from './endpoint-config.ts';
import { compileModelConfig, ModelConfigSchema } from './model-config.ts';
import { PREDICTION_LOG_WRITE_TIMEOUT_MS, PredictionLogServerSchema } from './prediction-log-config.ts';
import { PREDICTION_STORE_READ_TIMEOUT_MS, PredictionStoreConfigSchema } from './prediction-store-config.ts';
import { describedFields, fieldDefault, schemaDefaults } from './schema-defaults.ts';
import { compileServerConfig, serverConfigDefaults, ServerConfigFileSchema, ServerConfigSchema } from './server-config.ts';

const SCHEMAS: [string, TSchema][] = [
  ['sibyl.yaml', ServerConfigFileSchema],
  ['config.yaml', ModelConfigSchema],
  ['endpoints.<name>', EndpointConfigSchema],
  ['job.yaml', BatchJobSchema],
];

/** A default written as a plain value: a number, true/false, '' or a single word or path, a list of numbers. */
const WRITTEN_DEFAULT = /Default: (-?\d[\d_.]*|true|false|''|[A-Za-z_.:/][\w.:/-]*|\[[\d, ]*\])( \([^)]*\))?\.?$/;

describe('config defaults live in the schemas only', () => {
  it.each(SCHEMAS)('%s: a field with a default keyword does not repeat it in its description', (_name, schema) => {
    const repeated = describedFields(schema)
      .filter((f) => 'default' in f.schema && /Default:/.test(String(f.schema.description)))
      .map((f) => f.path);
    expect(repeated).toEqual([]);
  });

  it.each(SCHEMAS)('%s: no description writes a plain default by hand (it belongs in the default keyword)', (_name, schema) => {
    const handWritten = describedFields(schema)
      .filter((f) => !('default' in f.schema) && WRITTEN_DEFAULT.test(String(f.schema.description)))
      .map((f) => `${f.path}: ${String(f.schema.description).match(WRITTEN_DEFAULT)![0]}`);
    expect(handWritten).toEqual([]);
  });

  it('the checks catch a repeated and a hand-written default', () => {
    const schema = Type.Object({ a: Type.Integer({ default: 3, description: 'A thing. Default: 3.' }), b: Type.Integer({ description: 'B thing. Default: 8000.' }) });
    expect(describedFields(schema).filter((f) => 'default' in f.schema && /Default:/.test(String(f.schema.description))).map((f) => f.path)).toEqual(['a']);
    expect(describedFields(schema).filter((f) => !('default' in f.schema) && WRITTEN_DEFAULT.test(String(f.schema.description))).map((f) => f.path)).toEqual(['b']);
  });
});

describe('schemaDefaults and fieldDefault', () => {
  const schema = Type.Object({
    port: Type.Integer({ default: 8000 }),
    name: Type.String(),
    optional: Type.Optional(Type.Integer({ default: 5 })),
    nested: Type.Object({ on: Type.Boolean({ default: true }), list: Type.Array(Type.String(), { default: [] }) }),
    bare: Type.Object({ x: Type.String() }),
  });

  it('collects the defaults of required fields, nested objects included; optional fields stay absent', () => {
    expect(schemaDefaults(schema)).toEqual({ port: 8000, nested: { on: true, list: [] } });
  });

  it('hands out copies: changing one changes neither the schema nor the next', () => {
    (schemaDefaults(schema).nested as { list: string[] }).list.push('x');
    expect(fieldDefault<string[]>(schema, 'nested.list')).toEqual([]);
  });

  it('reads one field by path, and refuses a field without a default', () => {
    expect(fieldDefault(schema, 'optional')).toBe(5);
    expect(() => fieldDefault(schema, 'name')).toThrow('declares no default for name');
    expect(() => fieldDefault(schema, 'nested.missing')).toThrow('declares no default for nested.missing');
  });
});

describe('the code applies the schemas\' defaults', () => {
  it('the server defaults are a whole, valid configuration that compiles', () => {
    const defaults = serverConfigDefaults('/models');
    expect([...Value.Errors(ServerConfigSchema, defaults)]).toEqual([]);
    const config = compileServerConfig({ defaults, env: {}, flags: {} });
    expect(config).toMatchObject({ modelRepository: '/models', host: '127.0.0.1', http: { port: 8000, bodyLimitBytes: 64 * 1024 * 1024 }, grpc: { port: 8001 }, batch: { maxRunningJobs: 2 } });
    expect(config.predictionLog.writeTimeoutMs).toBeUndefined();
  });

  it('an empty model config compiles to the schema\'s defaults', () => {
    const c = compileModelConfig({ responseCache: {}, warmup: { samplesFile: undefined }, drift: {} }, '/m/config.yaml');
    const d = <T>(path: string): T => fieldDefault<T>(ModelConfigSchema, path);
    expect(c).toMatchObject({
      runtime: d('runtime'),
      instanceCount: d('instanceCount'),
      maxQueueSize: d('maxQueueSize'),
      executionsPerInstance: d('executionsPerInstance'),
      instanceHangTimeoutMs: d('instanceHangTimeoutMs'),
      loadTimeoutMs: d('loadTimeoutMs'),
      signatureChange: d('signatureChange'),
      dynamicBatching: { enabled: d('dynamicBatching.enabled'), maxQueueDelayMs: d('dynamicBatching.maxQueueDelayMs') },
      versionPolicy: { kind: 'latest', count: d<{ latest: number }>('versionPolicy').latest },
      warmup: { data: d('warmup.data'), iterations: d('warmup.iterations') },
      responseCache: { ttlMs: undefined },
      predictionLog: { sampleRate: fieldDefault(ModelConfigSchema, 'predictionLog.sampleRate'), defaultRule: fieldDefault(ModelConfigSchema, 'predictionLog.defaultRule') },
      drift: { baselineRows: d('drift.baselineRows'), windowRows: d('drift.windowRows'), bins: d('drift.bins'), psiThreshold: d('drift.psiThreshold'), ksThreshold: d('drift.ksThreshold') },
    });
  });

  // endpoint-config.ts still writes its defaults in its compile step (it is being reshaped into
  // policy modules): this keeps the two equal until they read the schema.
  it('an endpoint that leaves fields out gets the schema\'s defaults', () => {
    const e = <T>(path: string): T => fieldDefault<T>(EndpointConfigSchema, path);
    const canary = compileEndpointConfig('c', { canary: { stable: { model: 'm', version: 1 }, candidate: { model: 'm', version: 2 }, stageDurationMs: 1000 }, shadow: { target: { model: 'm', version: 2 }, fraction: 0.5 } }, 'test');
    expect(canary.policy).toMatchObject({ kind: 'canary', stages: e('canary.stages'), analysis: { minSamples: e('canary.analysis.minSamples') }, retryOnStable: e('canary.retryOnStable') });
    expect(canary.shadow?.maxInFlight).toBe(e('shadow.maxInFlight'));
    expect(canary.breaker).toEqual({
      consecutiveFailures: e('breaker.consecutiveFailures'),
      errorRate: e('breaker.errorRate'),
      windowMs: e('breaker.windowMs'),
      minRequests: e('breaker.minRequests'),
      coolDownMs: e('breaker.coolDownMs'),
    });
  });

  it('constants of optional fields are the schema\'s defaults', () => {
    expect(DEFAULT_CHUNK_ROWS).toBe(fieldDefault(BatchJobSchema, 'chunkRows'));
    expect(DEFAULT_CHUNK_BYTES).toBe(fieldDefault(BatchJobSchema, 'chunkBytes'));
    expect(PREDICTION_LOG_WRITE_TIMEOUT_MS).toBe(fieldDefault(PredictionLogServerSchema, 'writeTimeoutMs'));
    expect(PREDICTION_STORE_READ_TIMEOUT_MS).toBe(fieldDefault(PredictionStoreConfigSchema, 'readTimeoutMs'));
  });
});
