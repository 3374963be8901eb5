import { describe, expect, it } from 'vitest';
import { compileModelConfig, defaultThreadsPerInstance } from './model-config.ts';
import { compileServer, compileServerConfig, envName, environmentLayer, flagsLayer, serverConfigDefaults } from './server-config.ts';
import { parseYaml } from './yaml-file.ts';
import { configErrorMessage } from '../testing/config-error.ts';

const defaults = serverConfigDefaults('/repo');

const problemsOf = configErrorMessage;

describe('model config', () => {
  it('an absent or empty file gives the defaults, threads from the cores', () => {
    const config = compileModelConfig(undefined, 'm/config.yaml');
    expect(config).toEqual({
      runtime: 'onnx',
      maxBatchSize: undefined,
      instanceCount: 1,
      threadsPerInstance: undefined,
      inputs: [],
      outputs: [],
      dynamicBatching: { enabled: true, maxQueueDelayMs: 0, preferredBatchSizes: [] },
      maxQueueSize: 1000,
      executionsPerInstance: 2,
      instanceHangTimeoutMs: 60_000,
      loadTimeoutMs: 600_000,
      versionPolicy: { kind: 'latest', count: 1 },
      labels: {},
      signatureChange: 'refuse',
      acceptSignature: [],
      warmup: undefined,
      memoryBytes: undefined,
      predictionLog: { sampleRate: 0, fields: {}, defaultRule: 'keep', retentionDays: undefined },
      drift: undefined,
    });
    expect(compileModelConfig({ dynamicBatching: { maxQueueDelayMs: 0.25, preferredBatchSizes: [32, 8, 8] } }, 'f').dynamicBatching).toEqual({
      enabled: true,
      maxQueueDelayMs: 0.25,
      preferredBatchSizes: [8, 32],
    });
    expect(compileModelConfig({ threadsPerInstance: 3 }, 'f').threadsPerInstance).toBe(3);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('chooses threads from the cores and the model size when the config does not', () => {
    expect(defaultThreadsPerInstance(8, 1, 50e6)).toBe(8);
    expect(defaultThreadsPerInstance(8, 3, 50e6)).toBe(2);
    expect(defaultThreadsPerInstance(2, 4, 50e6)).toBe(1);
    expect(defaultThreadsPerInstance(8, 1, 300e3)).toBe(1); // a small model gains nothing from more
  });

  it('names the file, the field path, the bad value and what is allowed', () => {
    const message = problemsOf(() =>
      compileModelConfig({ instanceCount: 0, inputs: [{ name: 'x', datatype: 'FLOAT' }], colour: 'red' }, '/r/m/config.yaml'),
    );
    expect(message).toContain('/r/m/config.yaml: instanceCount: 0 is not allowed; expected an integer from 1 to 64');
    expect(message).toContain('/r/m/config.yaml: inputs[0].datatype: "FLOAT" is not allowed; expected one of "BOOL", "UINT8"');
    expect(message).toContain('/r/m/config.yaml: colour: unknown field; allowed fields here: runtime, maxBatchSize, instanceCount');
  });

  it('bounds every load: loadTimeoutMs is kept as given, within 1 s to 1 day', () => {
    expect(compileModelConfig({ loadTimeoutMs: 5_000 }, 'f').loadTimeoutMs).toBe(5_000);
    expect(problemsOf(() => compileModelConfig({ loadTimeoutMs: 0 }, '/r/m/config.yaml'))).toContain(
      '/r/m/config.yaml: loadTimeoutMs: 0 is not allowed; expected an integer from 1000 to 86400000',
    );
  });

  it('compiles the prediction log and drift sections, with paths relative to the config file', () => {
    const config = compileModelConfig(
      { predictionLog: { sampleRate: 0.25, fields: { email: 'hash', photo: 'drop' } }, drift: { baselineFile: 'reference.csv', windowRows: 500 } },
      '/r/m/config.yaml',
    );
    expect(config.predictionLog).toEqual({ sampleRate: 0.25, fields: { email: 'hash', photo: 'drop' }, defaultRule: 'keep', retentionDays: undefined });
    expect(config.drift).toEqual({ baselineFile: '/r/m/reference.csv', baselineRows: 1000, windowRows: 500, bins: 10, psiThreshold: 0.2, ksThreshold: 0.2 });
    expect(problemsOf(() => compileModelConfig({ predictionLog: { sampleRate: 2, fields: { x: 'mask' } } }, 'c.yaml'))).toBe(
      ['c.yaml: predictionLog.sampleRate: 2 is not allowed; expected a number from 0 to 1', 'c.yaml: predictionLog.fields.x: "mask" is not allowed; expected one of "keep", "drop", "hash"'].join('\n'),
    );
  });

  it('rejects a config that is not a mapping', () => {
    expect(problemsOf(() => compileModelConfig([1, 2], 'c.yaml'))).toMatch(/^c\.yaml: \[1,2\] is not allowed; expected a mapping with fields runtime/);
  });
});

describe('yaml files', () => {
  it('names the line and column of a syntax error', () => {
    expect(problemsOf(() => parseYaml('a: 1\nb: [1, 2\n', 'bad.yaml'))).toMatch(/^bad\.yaml: line \d+, column \d+: /);
  });
  it('rejects duplicate keys', () => {
    expect(problemsOf(() => parseYaml('a: 1\na: 2\n', 'dup.yaml'))).toContain('dup.yaml');
  });
});

describe('server config precedence: flags > environment > file > defaults', () => {
  it('compiles the endpoints once, with the settings, and names their problems by file and path', () => {
    const file = { path: 'sibyl.yaml', document: { endpoints: { churn: { split: { arms: [{ name: 'a', weight: 1, model: 'm', version: 1 }] } }, plain: {} } } };
    const { config, endpoints } = compileServer({ defaults, file, env: {}, flags: {} });
    expect([...endpoints.keys()]).toEqual(['churn', 'plain']);
    expect(endpoints.get('churn')!.policy).toMatchObject({ kind: 'split', arms: [{ name: 'a', target: { model: 'm', version: 1 } }] });
    expect(endpoints.get('plain')!.policy).toEqual({ kind: 'single', target: { model: 'plain' } });
    expect(endpoints.get('churn')!.document).toBe(config.endpoints.churn);
    const bad = { path: 'sibyl.yaml', document: { endpoints: { churn: { split: { arms: [{ name: 'a', weight: 0, model: 'm' }] } } } } };
    expect(problemsOf(() => compileServer({ defaults, file: bad, env: {}, flags: {} }))).toContain('sibyl.yaml: endpoints.churn.split.arms: every weight is 0');
  });

  it('derives environment names from schema paths', () => {
    expect(envName(['http', 'bodyLimitBytes'])).toBe('SIBYL_HTTP_BODY_LIMIT_BYTES');
    expect(envName(['modelRepository'])).toBe('SIBYL_MODEL_REPOSITORY');
  });

  it('layers sources in order', () => {
    const file = { path: 'sibyl.yaml', document: { host: '0.0.0.0', http: { port: 9000, bodyLimitBytes: 2048 }, logLevel: 'debug' } };
    const env = environmentLayer({ SIBYL_HTTP_PORT: '9100', SIBYL_LOG_LEVEL: 'warn' }).layer;
    const flags = flagsLayer({ httpPort: '9200' });
    const config = compileServerConfig({ defaults, file, env, flags });
    expect(config.http.port).toBe(9200); // flag beats environment and file
    expect(config.logLevel).toBe('warn'); // environment beats file
    expect(config.host).toBe('0.0.0.0'); // file beats default
    expect(config.http.bodyLimitBytes).toBe(2048); // nested fields merge
    expect(config.modelRepository).toBe('/repo'); // default
    expect(compileServerConfig({ defaults, env: {}, flags: {} })).toEqual(defaults);
  });

  it('reads gRPC settings and comma-separated CORS origins from flags and the environment', () => {
    const env = environmentLayer({ SIBYL_HTTP_CORS_ORIGINS: 'https://a.example, https://b.example', SIBYL_GRPC_MAX_MESSAGE_BYTES: '4096' }).layer;
    const config = compileServerConfig({ defaults, env, flags: flagsLayer({ grpcPort: '9301' }) });
    expect(config.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.grpc).toEqual({ port: 9301, maxMessageBytes: 4096 });
    expect(compileServerConfig({ defaults, env: {}, flags: flagsLayer({ httpCorsOrigins: '*' }) }).http.corsOrigins).toEqual(['*']);
  });

  it('reads the browser guard\'s names (http.allowedHosts, http.allowedOrigins) from the environment and flags, and refuses entries that are neither', () => {
    const env = environmentLayer({ SIBYL_HTTP_ALLOWED_HOSTS: 'sibyl.example.com, *.svc.cluster.local,[::1]:8000' }).layer;
    const config = compileServerConfig({ defaults, env, flags: flagsLayer({ httpAllowedOrigins: 'https://app.example.com,null' }) });
    expect(config.http.allowedHosts).toEqual(['sibyl.example.com', '*.svc.cluster.local', '[::1]:8000']);
    expect(config.http.allowedOrigins).toEqual(['https://app.example.com', 'null']);
    expect(Object.isFrozen(config.http.allowedHosts)).toBe(true);
    expect(defaults.http.allowedHosts).toEqual([]);
    expect(problemsOf(() => compileServerConfig({ defaults, file: { path: 's.yaml', document: { http: { allowedHosts: ['http://sibyl.example.com'] } } }, env: {}, flags: {} }))).toBe(
      's.yaml: http.allowedHosts[0]: "http://sibyl.example.com" is not allowed; expected a host name: name, name:port, [v6 address]:port, *.domain or *',
    );
    expect(problemsOf(() => compileServerConfig({ defaults, file: { path: 's.yaml', document: { http: { allowedOrigins: ['app.example.com'] } } }, env: {}, flags: {} }))).toBe(
      's.yaml: http.allowedOrigins[0]: "app.example.com" is not allowed; expected an origin: scheme://host[:port] (no path), null or *',
    );
  });

  it('reads the HTTP limits and timeouts, and refuses a receive timeout below the headers timeout or a body budget below the cost of one largest JSON body', () => {
    const config = compileServerConfig({ defaults, env: environmentLayer({ SIBYL_HTTP_INFLIGHT_BODY_BYTES: '1073741824' }).layer, flags: flagsLayer({ httpHeadersTimeoutMs: '5000' }) });
    expect(config.http).toMatchObject({ inflightBodyBytes: 1_073_741_824, headersTimeoutMs: 5000, requestReceiveTimeoutMs: 60_000, keepAliveTimeoutMs: 72_000 });
    expect(problemsOf(() => compileServerConfig({ defaults, file: { path: 's.yaml', document: { http: { headersTimeoutMs: 20_000, requestReceiveTimeoutMs: 10_000 } } }, env: {}, flags: {} }))).toBe(
      "s.yaml: http.requestReceiveTimeoutMs: is 10000, below http.headersTimeoutMs (20000); expected at least the headers timeout (a request's headers are part of it)",
    );
    // One largest JSON body costs 14 × 4096 = 57344: a budget of 50000 could never admit it.
    expect(problemsOf(() => compileServerConfig({ defaults, file: { path: 's.yaml', document: { http: { bodyLimitBytes: 4096, inflightBodyBytes: 50_000 } } }, env: {}, flags: {} }))).toBe(
      's.yaml: http.inflightBodyBytes: is 50000, below the cost of one largest JSON body (14 × http.bodyLimitBytes 4096 = 57344); expected at least that, or a lower http.bodyLimitBytes',
    );
    // The default budget (134217728 with the old 1× count) is refused beside the default 64 MiB body limit.
    expect(problemsOf(() => compileServerConfig({ defaults, env: environmentLayer({ SIBYL_HTTP_INFLIGHT_BODY_BYTES: '134217728' }).layer, flags: {} }))).toContain('below the cost of one largest JSON body');
  });

  it('names the source of each bad value', () => {
    expect(problemsOf(() => environmentLayer({ SIBYL_HTTP_PORT: 'eighty' }))).toBe('environment: http.port: SIBYL_HTTP_PORT: "eighty" is not a number');
    expect(problemsOf(() => compileServerConfig({ defaults, env: {}, flags: flagsLayer({ httpPort: '70000' }) }))).toBe(
      'command line: http.port: 70000 is not allowed; expected an integer from 0 to 65535',
    );
    const lines = problemsOf(() =>
      compileServerConfig({ defaults, file: { path: '/etc/sibyl.yaml', document: { logLevel: 'loud', htp: {} } }, env: {}, flags: {} }),
    ).split('\n');
    expect(lines.sort()).toEqual([
      '/etc/sibyl.yaml: htp: unknown field; allowed fields here: modelRepository, host, logLevel, drainTimeoutMs, shutdownGracePeriodMs, requestTimeoutMs, modelControlMode, repositoryPollIntervalMs, loadModels, maxLoadedModels, memoryBudgetBytes, modelLoadConcurrency, stateStore, responseCache, endpoints, http, grpc, accessLog, metrics, batch, sandbox, predictionLog, schedules, limits, predictionStore, rateLimits, tls, auth, allowUnauthenticated, audit, management',
      '/etc/sibyl.yaml: logLevel: "loud" is not allowed; expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent"',
    ]);
  });

  it('reads the shutdown grace period, which may not exceed the drain timeout it is part of', () => {
    expect(defaults.shutdownGracePeriodMs).toBe(5000);
    const env = environmentLayer({ SIBYL_SHUTDOWN_GRACE_PERIOD_MS: '2000' }).layer;
    expect(compileServerConfig({ defaults, env, flags: {} }).shutdownGracePeriodMs).toBe(2000);
    expect(compileServerConfig({ defaults, env, flags: flagsLayer({ shutdownGracePeriodMs: '0' }) }).shutdownGracePeriodMs).toBe(0);
    expect(problemsOf(() => compileServerConfig({ defaults, env: {}, flags: flagsLayer({ shutdownGracePeriodMs: '9000', drainTimeoutMs: '8000' }) }))).toBe(
      'configuration: shutdownGracePeriodMs: 9000 is more than drainTimeoutMs (8000); the grace period is part of the drain, so expected at most 8000 (or raise drainTimeoutMs)',
    );
  });

  it('reads the batch job limits from the file, the environment and flags (issue 13 C1)', () => {
    expect(defaults.batch).toEqual({ maxRunningJobs: 2, maxQueuedJobs: 100 });
    const env = environmentLayer({ SIBYL_BATCH_MAX_RUNNING_JOBS: '3' }).layer;
    const file = { path: 'sibyl.yaml', document: { batch: { maxQueuedJobs: 7 } } };
    expect(compileServerConfig({ defaults, file, env, flags: {} }).batch).toEqual({ maxRunningJobs: 3, maxQueuedJobs: 7 });
    expect(compileServerConfig({ defaults, env, flags: flagsLayer({ batchMaxRunningJobs: '1', batchMaxQueuedJobs: '0' }) }).batch).toEqual({ maxRunningJobs: 1, maxQueuedJobs: 0 });
    expect(problemsOf(() => compileServerConfig({ defaults, env: {}, flags: flagsLayer({ batchMaxRunningJobs: '0' }) }))).toMatch(/batch\.maxRunningJobs/);
  });

  it('takes lists from repeated flags and comma-separated variables', () => {
    const env = environmentLayer({ SIBYL_LOAD_MODELS: 'iris, churn,,', SIBYL_MODEL_CONTROL_MODE: 'explicit' }).layer;
    expect(compileServerConfig({ defaults, env, flags: {} })).toMatchObject({ loadModels: ['iris', 'churn'], modelControlMode: 'explicit' });
    const flags = flagsLayer({ loadModel: ['a', 'b,c'], maxLoadedModels: '20', stateStore: ':memory:' });
    const config = compileServerConfig({ defaults, env, flags });
    expect(config).toMatchObject({ loadModels: ['a', 'b', 'c'], maxLoadedModels: 20, stateStore: ':memory:' });
    expect(Object.isFrozen(config.loadModels)).toBe(true);
    expect(problemsOf(() => compileServerConfig({ defaults, env: {}, flags: flagsLayer({ modelControlMode: 'watch' }) }))).toBe(
      'command line: modelControlMode: "watch" is not allowed; expected one of "none", "poll", "explicit"',
    );
  });

  it('reads the metrics port and the prediction log sink from flags and the environment', () => {
    const env = environmentLayer({ SIBYL_PREDICTION_LOG_SINK: 'jsonl', SIBYL_PREDICTION_LOG_HASH_KEY: 'k3y' }).layer;
    const config = compileServerConfig({ defaults, env, flags: flagsLayer({ metricsPort: '9090', predictionLogPath: '/var/log/p.jsonl' }) });
    expect(config.metrics).toEqual({ enabled: true, port: 9090 });
    expect(config.predictionLog).toMatchObject({ sink: 'jsonl', path: '/var/log/p.jsonl', hashKey: 'k3y', retentionDays: 30 });
    expect(problemsOf(() => compileServerConfig({ defaults, file: { path: 's.yaml', document: { predictionLog: { sink: 'mysql' } } }, env: {}, flags: {} }))).toBe(
      's.yaml: predictionLog.sink: "mysql" is not allowed; expected one of "sqlite", "jsonl", "postgres"',
    );
  });

  it('reads the prediction store from the file, the environment and flags', () => {
    expect(compileServerConfig({ defaults, env: {}, flags: {} }).predictionStore).toEqual({ backend: 'sqlite', path: '.sibyl/predictions.sqlite', url: '', tablePrefix: 'sibyl_' });
    const env = environmentLayer({ SIBYL_PREDICTION_STORE_URL: 'postgres://db/scores', SIBYL_PREDICTION_STORE_TABLE_PREFIX: 'nightly_' }).layer;
    const file = { path: 's.yaml', document: { predictionStore: { path: 'file.sqlite' } } };
    expect(compileServerConfig({ defaults, file, env, flags: flagsLayer({ predictionStore: 'postgres' }) }).predictionStore).toEqual({ backend: 'postgres', path: 'file.sqlite', url: 'postgres://db/scores', tablePrefix: 'nightly_' });
    expect(compileServerConfig({ defaults, env: {}, flags: flagsLayer({ predictionStorePath: '/data/p.sqlite' }) }).predictionStore.path).toBe('/data/p.sqlite');
    expect(problemsOf(() => compileServerConfig({ defaults, env: {}, flags: flagsLayer({ predictionStore: 'mysql' }) }))).toBe('command line: predictionStore.backend: "mysql" is not allowed; expected one of "sqlite", "postgres"');
    expect(problemsOf(() => compileServerConfig({ defaults, file: { path: 's.yaml', document: { predictionStore: { tablePrefix: 'a-b' } } }, env: {}, flags: {} }))).toContain('s.yaml: predictionStore.tablePrefix');
  });

  it('warns about unknown SIBYL_ variables', () => {
    expect(environmentLayer({ SIBYL_HTTP_PROT: '1' }).warnings[0]).toContain('SIBYL_HTTP_PROT is not a Sibyl setting');
  });
});
