// The server configuration: one schema, one precedence order (flags > environment SIBYL_* >
// sibyl.yaml > defaults), compiled once at start-up into frozen options. Environment variable
// names are derived from the schema paths (http.port → SIBYL_HTTP_PORT), never listed by hand.
import type { LogLevel } from '@sibyl/protocol';
import Type, { type Static, type TObject, type TSchema } from 'typebox';
import { compileEndpointConfigs, EndpointConfigSchema, type EndpointConfig } from './endpoint-config.ts';
import { LimitsSchema } from './limits-config.ts';
import { PredictionLogServerSchema } from './prediction-log-config.ts';
import { ALLOW_UNAUTHENTICATED_DESCRIPTION, AuditConfigSchema, AuthConfigSchema, ManagementConfigSchema } from './auth-config.ts';
import { SchedulesSchema, scheduleProblems } from './schedule-config.ts';
import { TlsConfigSchema, tlsProblems } from './tls-config.ts';
import { PredictionStoreConfigSchema } from './prediction-store-config.ts';
import { RateLimitsSchema } from './rate-limit-config.ts';
import { schemaDefaults } from './schema-defaults.ts';
import { ConfigError, validateConfig, type ConfigProblem } from './validate.ts';
import { BODY_COST_FACTORS, bodyCostBytes, JSON_BODY } from '../core/body-cost.ts';

/** The levels of the management API's logging route (@sibyl/protocol's LogLevel), in the same order. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const satisfies readonly LogLevel[];
export const MODEL_CONTROL_MODES = ['none', 'poll', 'explicit'] as const;

export const ServerConfigSchema = Type.Object(
  {
    modelRepository: Type.String({ minLength: 1, description: 'Folder of models: <repo>/<model>/<version>/model.onnx. Default: the bundled examples.' }),
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address the HTTP server listens on.' }),
    logLevel: Type.Enum(LOG_LEVELS, { default: 'info', description: 'Least severe log level written.' }),
    drainTimeoutMs: Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      default: 30000,
        description:
        'On SIGTERM/SIGINT, the most time the drain may take, shutdownGracePeriodMs included: requests received before the signal are answered within it; then remaining connections are closed and the server exits (releasing models and stores takes at most a few seconds more).',
    }),
    shutdownGracePeriodMs: Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      default: 5000,
      description:
        'On SIGTERM, how long the listeners stay open after readiness turns false, answering new requests with 503 SERVER_DRAINING (Connection: close) so that clients of a load balancer that has not yet removed this replica are told to retry elsewhere instead of getting connection refused. Part of drainTimeoutMs, so at most drainTimeoutMs. SIGINT (Ctrl-C) skips it. 0: close the listeners as soon as the requests in flight are answered (use with a preStop hook that waits instead). The default leaves Kubernetes the few seconds it takes to remove a terminating pod from its endpoints.',
    }),
    requestTimeoutMs: Type.Integer({
      minimum: 0,
      maximum: 86_400_000,
      default: 60000,
        description:
        "Deadline of a request that sets none (Triton's `timeout` parameter, in µs, sets one): a request still queued when it passes gets 504 and never runs. 0: no deadline.",
    }),
    modelControlMode: Type.Enum(MODEL_CONTROL_MODES, {
      default: 'none',
      description:
        "How the loaded models follow the repository (Triton's names). none: read once at start-up. poll: scanned every repositoryPollIntervalMs; new versions load and become ready before old ones drain and unload. explicit: models load and unload only through the API (POST /v2/repository/models/{m}/load|unload) and loadModels.",
    }),
    repositoryPollIntervalMs: Type.Integer({
      minimum: 100,
      maximum: 86_400_000,
      default: 5000, description: 'poll mode: time between scans of the repository, in ms.',
    }),
    loadModels: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        "explicit mode: models loaded at start-up ('*': every model), unless the state store recorded a load or unload of them through the API. As a flag, repeat --load-model; in the environment, separate names with commas.",
    }),
    maxLoadedModels: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
        description:
        'Most model versions loaded at once (each loaded version counts one). When full, the least recently used version is unloaded to load one a request asks for, which waits for the load within its deadline. 0: no limit.',
    }),
    memoryBudgetBytes: Type.Integer({
      minimum: 0,
      default: 0,
        description:
        "Most memory of loaded versions, in bytes, as each model's memoryBytes counts it (default: its model.onnx size times its instances); least recently used versions are unloaded to stay within it. 0: no budget.",
    }),
    modelLoadConcurrency: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'Model versions loading at the same time.' }),
    stateStore: Type.String({
      minLength: 1,
      default: '.sibyl/state.sqlite',
        description:
        "SQLite file that keeps labels, explicit loads and last known good versions across restarts (created if missing; relative to the working directory). ':memory:' keeps them for the life of the process only.",
    }),
    responseCache: Type.Object(
      {
        backend: Type.Enum(['memory', 'redis'] as const, { default: 'memory', description: 'Where cached answers live: memory (this process) or redis (shared by replicas).' }),
        maxEntries: Type.Integer({ minimum: 1, default: 10000, description: 'memory: most answers kept; the least recently used go first.' }),
        maxBytes: Type.Integer({ minimum: 1024, default: 67108864, description: 'memory: most bytes of answers kept.' }),
        ttlMs: Type.Integer({ minimum: 1, default: 60000, description: 'How long an answer is kept, unless its model sets its own.' }),
        redisUrl: Type.String({ minLength: 1, default: 'redis://127.0.0.1:6379', description: 'redis: the server, e.g. redis://127.0.0.1:6379/0.' }),
        redisKeyPrefix: Type.String({ default: 'sibyl:cache:', description: 'redis: prefix of every key.' }),
        redisTimeoutMs: Type.Integer({ minimum: 1, default: 100, description: 'redis: a command that takes longer is a miss.' }),
      },
      { additionalProperties: false, description: 'The response cache. Models opt in with responseCache in their config.yaml.' },
    ),
    endpoints: Type.Record(Type.String(), EndpointConfigSchema, {
      default: {},
      description:
        'Endpoints: the names clients call, each with its traffic policy (a target, split, canary, blueGreen, cascade or hybrid; shadow, fallback, breaker). An endpoint may have the name of a model. See docs/endpoints.md.',
    }),
    http: Type.Object(
      {
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8000, description: 'HTTP port (0: any free port).' }),
        bodyLimitBytes: Type.Integer({
          minimum: 1024,
          maximum: 2 ** 31 - 1,
          default: 67108864,
          description: 'Largest request body accepted; larger bodies get 413.',
        }),
        maxInflatedBodyBytes: Type.Integer({
          minimum: 1024,
          maximum: 2 ** 31 - 1,
          default: 16777216,
          description:
            'Largest request body a gzip or deflate body may inflate to; more gets 413 BODY_TOO_LARGE as soon as the inflated bytes pass it (a decompression bomb is stopped there, holding at most this much). The smaller of it and http.bodyLimitBytes applies.',
        }),
        maxHeaderBytes: Type.Integer({
          minimum: 1024,
          maximum: 1_048_576,
          default: 16384,
          description: "Largest request head (request line and headers together) accepted, in bytes; a larger one gets 431 HEADERS_TOO_LARGE and its connection is closed. Node's --max-http-header-size.",
        }),
        corsOrigins: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description:
            'Origins whose web pages may call the HTTP API (CORS), e.g. https://app.example.com; `*` allows any. Comma-separated in the environment and on the command line. Empty: same-origin only.',
        }),
        allowedHosts: Type.Array(Type.String({ title: 'a host name: name, name:port, [v6 address]:port, *.domain or *', minLength: 1, maxLength: 253, pattern: '^(\\*|(\\*\\.)?[A-Za-z0-9_.-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?)$' }), {
          default: [],
          description:
            'Names clients reach the HTTP API by, as the Host header carries them (DNS rebinding defence): `name` (any port), `name:port`, `*.example.com` (its subdomains) or `*` (any). A request whose Host names none of them gets 421 HOST_REFUSED before any route runs. Always accepted besides: IP addresses (rebinding needs a DNS name), localhost, and the health probes /v2/health/live and /v2/health/ready. Empty: on a connection to a loopback address only those; on any other address any name (the server warns at start-up when it listens beyond loopback with this empty). Comma-separated in the environment and on the command line. Also applies to the metrics listener. See docs/security.md.',
        }),
        allowedOrigins: Type.Array(Type.String({ title: 'an origin: scheme://host[:port] (no path), null or *', minLength: 1, maxLength: 2048, pattern: '^(\\*|null|[A-Za-z][A-Za-z0-9+.-]*://[^/?#\\s]+/?)$' }), {
          default: [],
          description:
            "Origins of web pages that may send requests which change something or run a model (every method but GET, HEAD and OPTIONS), besides the server's own origin and http.corsOrigins, without getting CORS headers (pages that only post, or the public origin of a proxy that rewrites Host). A request from a browser whose Origin is none of them (or that says Sec-Fetch-Site: cross-site or same-site and sends no Origin) gets 403 ORIGIN_REFUSED before it runs; requests without either header (curl, SDKs, other servers) are not concerned. `*` turns the check off. Comma-separated in the environment and on the command line. See docs/security.md.",
        }),
        inflightBodyBytes: Type.Optional(
          Type.Integer({
            minimum: 1024,
            maximum: Number.MAX_SAFE_INTEGER,
            description:
              'Memory the server lets request bodies take at once, over all HTTP requests, in bytes. Each body is counted at what it costs in memory from its first byte until its answer is sent: a JSON body 14 times its size (what decoding it peaks at, measured), binary tensor data (Inference-Header-Content-Length) 2 times; gzip and deflate bodies inflated. A body whose Content-Length says it does not fit gets 503 BODY_BUDGET_EXHAUSTED with Retry-After before it is read; one of unknown length when its bytes arrive. At least the cost of one largest JSON body (14 × http.bodyLimitBytes), so that one can always be served when the server is idle. Default: 1/16 of the memory the process may use (its cgroup limit, else the machine\'s RAM), at least 14 × http.bodyLimitBytes.',
          }),
        ),
        headersTimeoutMs: Type.Integer({
          minimum: 100,
          maximum: 3_600_000,
          default: 10000,
            description:
            'Most time a client may take to send a request\'s headers, from its first byte (and a new connection to send its first request); then the connection gets 408 and is closed.',
        }),
        requestReceiveTimeoutMs: Type.Integer({
          minimum: 100,
          maximum: 86_400_000,
          default: 60000,
          description:
            'Most time a client may take to send a whole request, headers and body; then the connection gets 408 and is closed (slow or stalled uploads cannot hold the server\'s memory). The model\'s run is not counted: requestTimeoutMs bounds it. At least http.headersTimeoutMs. The default lets a 64 MiB body arrive at about 1.1 MB/s.',
        }),
        keepAliveTimeoutMs: Type.Integer({
          minimum: 100,
          maximum: 3_600_000,
          default: 72000,
            description:
            'How long an idle keep-alive connection is kept open for its next request. Keep it above the idle timeout of a load balancer in front (60 s on AWS ALB, say), so the balancer closes first.',
        }),
      },
      { additionalProperties: false },
    ),
    grpc: Type.Object(
      {
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8001, description: 'gRPC port (Open Inference Protocol, health, reflection; 0: any free port).' }),
        maxMessageBytes: Type.Integer({
          minimum: 1024,
          maximum: 2 ** 31 - 1,
          default: 67108864,
          description: 'Largest gRPC message received or sent; larger requests get RESOURCE_EXHAUSTED.',
        }),
      },
      { additionalProperties: false },
    ),
    accessLog: Type.Boolean({
      default: false, description: 'Write one info line per HTTP request (method, url, status, ms, request id), asynchronously, off the request path.',
    }),
    metrics: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Serve Prometheus metrics at /metrics and record them.' }),
        port: Type.Optional(
          Type.Integer({ minimum: 0, maximum: 65535, description: 'Also serve /metrics on this port, on the same host (0: any free port). Absent: /metrics is served on the HTTP port only.' }),
        ),
      },
      { additionalProperties: false },
    ),
    batch: Type.Object(
      {
        maxRunningJobs: Type.Integer({
          minimum: 1,
          maximum: 64,
          default: 2,
          description:
            "Batch jobs (started through the API, resumed, or by a schedule) running at once in this server. Later ones wait with status queued and start in order as running ones end. Each running job holds a few chunks of its source in memory (a few hundred MB at its default chunkBytes of 16 MiB, on wide rows) and shares the models' instances with online traffic and the other jobs, so more jobs at once add memory, not throughput. Two by default, so that a short job need not wait for a long one to end.",
        }),
        maxQueuedJobs: Type.Integer({
          minimum: 0,
          maximum: 10_000,
          default: 100,
            description:
            'Batch jobs waiting with status queued for a running slot. When that many wait, starting another gets 429 BATCH_JOB_QUEUE_FULL with Retry-After (a schedule skips that run and records the error). 0: no queue (a job starts at once or is refused).',
        }),
      },
      { additionalProperties: false, description: 'Batch jobs run inside the server.' },
    ),
    sandbox: Type.Object(
      {
        sourceRoots: Type.Array(Type.String({ minLength: 1 }), {
          default: ['data'],
          description:
            "Folders (relative to the folder of sibyl.yaml) that batch jobs sent over the API (POST /v1/batch/jobs, resume) may read source files and job files from; links are followed and must stay inside. The server's data directory (the folder of stateStore) and its prediction log are never sources. []: API jobs read no files. Jobs run with `sibyl batch run` and by schedules of sibyl.yaml are not sandboxed.",
        }),
        connections: Type.Record(
          Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }),
          Type.Union([
            Type.Object({ postgres: Type.String({ minLength: 1, description: 'A PostgreSQL URL (its password is never shown by the API).' }) }, { additionalProperties: false }),
            Type.Object({ sqlite: Type.String({ minLength: 1, description: 'A SQLite database file, relative to the folder of sibyl.yaml.' }) }, { additionalProperties: false }),
          ]),
          {
            default: {},
            description:
              'Databases that batch jobs sent over the API may query, by name (source.sql.connection); such a job never names a URL or a database file itself. Queries run in read-only transactions (SQLite: a read-only connection with query_only).',
          },
        ),
      },
      { additionalProperties: false, description: 'What batch jobs sent over the network may read (see docs/security.md, Management sandbox).' },
    ),
    predictionLog: PredictionLogServerSchema,
    schedules: SchedulesSchema,
    limits: LimitsSchema,
    predictionStore: PredictionStoreConfigSchema,
    rateLimits: RateLimitsSchema,
    tls: TlsConfigSchema,
    auth: AuthConfigSchema,
    allowUnauthenticated: Type.Boolean({ default: false, description: ALLOW_UNAUTHENTICATED_DESCRIPTION }),
    audit: AuditConfigSchema,
    management: ManagementConfigSchema,
  },
  { additionalProperties: false, title: 'Sibyl server configuration (sibyl.yaml)' },
);

export type ServerConfig = Readonly<Static<typeof ServerConfigSchema>>;

/** A partial document: what one source (file, environment, flags) says. */
type Layer = Record<string, unknown>;

/**
 * The defaults: every `default` of the schema, and the model repository, which has none (the
 * bundled examples are found at run time). A test checks they make a whole, valid configuration.
 */
export function serverConfigDefaults(exampleRepository: string): ServerConfig {
  return { ...schemaDefaults(ServerConfigSchema), modelRepository: exampleRepository } as unknown as ServerConfig;
}

interface Leaf {
  path: string[];
  schema: Record<string, unknown>;
}

/** Every leaf field of an object schema, with its path. */
function leaves(schema: TSchema, prefix: string[] = []): Leaf[] {
  const s = schema as Record<string, unknown>;
  if (s.type !== 'object') return [{ path: prefix, schema: s }];
  // Maps of names (endpoints) have no flag or variable: they come from the file or the API.
  if (s.properties === undefined) return [];
  const props = s.properties as Record<string, TSchema>;
  return Object.entries(props).flatMap(([key, sub]) => leaves(sub, [...prefix, key]));
}

const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** SIBYL_HTTP_PORT for ['http','port']. */
export function envName(path: readonly string[]): string {
  return `SIBYL_${path.map(snake).join('_')}`;
}

/** The environment variables the schema defines, with their field paths (for docs and --help). */
export function serverEnvironmentVariables(): { name: string; path: string; description: string }[] {
  return leaves(ServerConfigSchema).map((l) => ({
    name: envName(l.path),
    path: l.path.join('.'),
    description: String(l.schema.description ?? ''),
  }));
}

/**
 * Turns a string (from the environment or a flag; a repeated flag gives several) into the leaf's
 * type, or explains why not. Lists take comma-separated values.
 */
function coerce(input: string | readonly string[], schema: Record<string, unknown>): { value: unknown } | { error: string } {
  if (schema.type === 'array') {
    return { value: (typeof input === 'string' ? [input] : input).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '') };
  }
  const text = typeof input === 'string' ? input : (input.at(-1) ?? '');
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const n = text.trim() === '' ? Number.NaN : Number(text);
      return Number.isFinite(n) ? { value: n } : { error: `${JSON.stringify(text)} is not a number` };
    }
    case 'array':
      return { value: text.split(',').map((item) => item.trim()).filter((item) => item !== '') };
    case 'boolean':
      if (/^(true|1|yes)$/i.test(text)) return { value: true };
      if (/^(false|0|no)$/i.test(text)) return { value: false };
      return { error: `${JSON.stringify(text)} is not true or false` };
    default:
      return { value: text };
  }
}

function setPath(target: Layer, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Layer;
  node[path[path.length - 1]!] = value;
}

/** Reads the SIBYL_* variables the schema defines; unknown SIBYL_* names are returned as warnings. */
export function environmentLayer(env: NodeJS.ProcessEnv): { layer: Layer; warnings: string[] } {
  const layer: Layer = {};
  const problems: ConfigProblem[] = [];
  const known = new Set<string>();
  for (const leaf of leaves(ServerConfigSchema)) {
    const name = envName(leaf.path);
    known.add(name);
    const text = env[name];
    if (text === undefined) continue;
    const result = coerce(text, leaf.schema);
    if ('error' in result) problems.push({ path: leaf.path.join('.'), message: `${name}: ${result.error}` });
    else setPath(layer, leaf.path, result.value);
  }
  if (problems.length > 0) throw new ConfigError('environment', problems);
  // SIBYL_CONFIG names the file itself, SIBYL_API_KEY is the CLI's credential; anything else unknown is probably a typo.
  const warnings = Object.keys(env)
    .filter((k) => k.startsWith('SIBYL_') && !known.has(k) && k !== 'SIBYL_CONFIG' && k !== 'SIBYL_API_KEY')
    .map((k) => `environment variable ${k} is not a Sibyl setting; known: ${[...known].join(', ')}`);
  return { layer, warnings };
}

/** Command-line flags: their names and the field each sets. Values arrive as strings. */
export const SERVE_FLAGS = [
  { flag: '--model-repository <dir>', path: ['modelRepository'] },
  { flag: '--host <address>', path: ['host'] },
  { flag: '--http-port <port>', path: ['http', 'port'] },
  { flag: '--log-level <level>', path: ['logLevel'] },
  { flag: '--drain-timeout-ms <ms>', path: ['drainTimeoutMs'] },
  { flag: '--shutdown-grace-period-ms <ms>', path: ['shutdownGracePeriodMs'] },
  { flag: '--request-timeout-ms <ms>', path: ['requestTimeoutMs'] },
  { flag: '--http-body-limit-bytes <bytes>', path: ['http', 'bodyLimitBytes'] },
  { flag: '--model-control-mode <mode>', path: ['modelControlMode'] },
  { flag: '--repository-poll-interval-ms <ms>', path: ['repositoryPollIntervalMs'] },
  { flag: '--load-model <model>', path: ['loadModels'] },
  { flag: '--max-loaded-models <count>', path: ['maxLoadedModels'] },
  { flag: '--memory-budget-bytes <bytes>', path: ['memoryBudgetBytes'] },
  { flag: '--model-load-concurrency <count>', path: ['modelLoadConcurrency'] },
  { flag: '--state-store <file>', path: ['stateStore'] },
  { flag: '--response-cache <backend>', path: ['responseCache', 'backend'] },
  { flag: '--response-cache-redis-url <url>', path: ['responseCache', 'redisUrl'] },
  { flag: '--metrics-port <port>', path: ['metrics', 'port'] },
  { flag: '--access-log <bool>', path: ['accessLog'] },
  { flag: '--prediction-log-sink <sink>', path: ['predictionLog', 'sink'] },
  { flag: '--prediction-log-path <path>', path: ['predictionLog', 'path'] },
  { flag: '--prediction-store <backend>', path: ['predictionStore', 'backend'] },
  { flag: '--prediction-store-path <file>', path: ['predictionStore', 'path'] },
  { flag: '--prediction-store-url <url>', path: ['predictionStore', 'url'] },
  { flag: '--http-cors-origins <origins>', path: ['http', 'corsOrigins'] },
  { flag: '--http-allowed-hosts <names>', path: ['http', 'allowedHosts'] },
  { flag: '--http-allowed-origins <origins>', path: ['http', 'allowedOrigins'] },
  { flag: '--http-inflight-body-bytes <bytes>', path: ['http', 'inflightBodyBytes'] },
  { flag: '--http-headers-timeout-ms <ms>', path: ['http', 'headersTimeoutMs'] },
  { flag: '--http-request-receive-timeout-ms <ms>', path: ['http', 'requestReceiveTimeoutMs'] },
  { flag: '--http-keep-alive-timeout-ms <ms>', path: ['http', 'keepAliveTimeoutMs'] },
  { flag: '--grpc-port <port>', path: ['grpc', 'port'] },
  { flag: '--grpc-max-message-bytes <bytes>', path: ['grpc', 'maxMessageBytes'] },
  { flag: '--batch-max-running-jobs <count>', path: ['batch', 'maxRunningJobs'] },
  { flag: '--batch-max-queued-jobs <count>', path: ['batch', 'maxQueuedJobs'] },
  { flag: '--tls-cert-file <file>', path: ['tls', 'certFile'] },
  { flag: '--tls-key-file <file>', path: ['tls', 'keyFile'] },
  { flag: '--tls-ca-file <file>', path: ['tls', 'caFile'] },
  { flag: '--tls-client-certificates <mode>', path: ['tls', 'clientCertificates'] },
  { flag: '--allow-unauthenticated [bool]', path: ['allowUnauthenticated'] },
  { flag: '--management-port <port>', path: ['management', 'port'] },
  { flag: '--audit-file <file>', path: ['audit', 'file'] },
] as const;

export function flagsLayer(flags: Record<string, string | readonly string[] | boolean | undefined>): Layer {
  const layer: Layer = {};
  const problems: ConfigProblem[] = [];
  const bySchemaPath = new Map(leaves(ServerConfigSchema).map((l) => [l.path.join('.'), l.schema]));
  for (const { flag, path } of SERVE_FLAGS) {
    const key = flag.slice(2, flag.indexOf(' ')).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const given = flags[key];
    if (given === undefined || given === false) continue;
    // A switch given without a value (`--allow-unauthenticated`).
    const text = given === true ? 'true' : given;
    const result = coerce(text, bySchemaPath.get(path.join('.'))!);
    if ('error' in result) problems.push({ path: path.join('.'), message: `${flag.split(' ')[0]}: ${result.error}` });
    else setPath(layer, path, result.value);
  }
  if (problems.length > 0) throw new ConfigError('command line', problems);
  return layer;
}

function merge(base: Layer, over: Layer): Layer {
  const out: Layer = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] =
      value !== null && typeof value === 'object' && !Array.isArray(value) && prev !== null && typeof prev === 'object' && !Array.isArray(prev)
        ? merge(prev as Layer, value as Layer)
        : value;
  }
  return out;
}

/**
 * The same fields, all optional: what one source (sibyl.yaml, the environment, flags) may say.
 * Unknown fields stay errors. This is the schema of the sibyl.yaml file, exported for editors.
 */
/** A section of the file: the same fields, all optional, unknown ones still errors. */
const partialSection = (section: TObject) =>
  Type.Optional(Type.Object((Type.Partial(section) as TObject).properties, { additionalProperties: false, description: (section as { description?: string }).description }));
export const ServerConfigFileSchema = Type.Object(
  {
    ...Type.Partial(ServerConfigSchema).properties,
    http: partialSection(ServerConfigSchema.properties.http),
    responseCache: Type.Optional(
      Type.Object(Type.Partial(ServerConfigSchema.properties.responseCache).properties, { additionalProperties: false, description: (ServerConfigSchema.properties.responseCache as { description?: string }).description }),
    ),
    metrics: partialSection(ServerConfigSchema.properties.metrics),
    batch: partialSection(ServerConfigSchema.properties.batch),
    sandbox: partialSection(ServerConfigSchema.properties.sandbox),
    predictionLog: partialSection(ServerConfigSchema.properties.predictionLog),
    predictionStore: partialSection(ServerConfigSchema.properties.predictionStore),
    rateLimits: partialSection(ServerConfigSchema.properties.rateLimits),
    grpc: Type.Optional(Type.Object(Type.Partial(ServerConfigSchema.properties.grpc).properties, { additionalProperties: false })),
    tls: partialSection(ServerConfigSchema.properties.tls),
    auth: partialSection(ServerConfigSchema.properties.auth),
    audit: partialSection(ServerConfigSchema.properties.audit),
    management: partialSection(ServerConfigSchema.properties.management),
    limits: partialSection(ServerConfigSchema.properties.limits),
  },
  { additionalProperties: false, title: 'Sibyl server configuration (sibyl.yaml)' },
);
const PartialServerConfigSchema = ServerConfigFileSchema;
/** What sibyl.yaml (or an embedding application's settings) may say: every field optional. */
export type ServerConfigDocument = Static<typeof ServerConfigFileSchema>;

/** The rules between the http fields (Node refuses a headers timeout above the request's). */
function httpProblems(http: ServerConfig['http']): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (http.requestReceiveTimeoutMs < http.headersTimeoutMs) {
    problems.push({ path: 'http.requestReceiveTimeoutMs', message: `is ${http.requestReceiveTimeoutMs}, below http.headersTimeoutMs (${http.headersTimeoutMs}); expected at least the headers timeout (a request's headers are part of it)` });
  }
  // A budget that cannot hold one largest body would refuse it even on an idle server, forever.
  const largest = bodyCostBytes(http.bodyLimitBytes, JSON_BODY);
  if (http.inflightBodyBytes !== undefined && http.inflightBodyBytes < largest) {
    problems.push({
      path: 'http.inflightBodyBytes',
      message: `is ${http.inflightBodyBytes}, below the cost of one largest JSON body (${BODY_COST_FACTORS.json} × http.bodyLimitBytes ${http.bodyLimitBytes} = ${largest}); expected at least that, or a lower http.bodyLimitBytes`,
    });
  }
  return problems;
}

export interface ServerConfigSources {
  defaults: ServerConfig;
  file?: { path: string; document: unknown };
  env: Layer;
  flags: Layer;
}

/** compileServer without its endpoints (for what reads only the settings). @throws ConfigError listing every problem. */
export function compileServerConfig(sources: ServerConfigSources): ServerConfig {
  return compileServer(sources).config;
}

/**
 * Compiles the server configuration from its sources, with its endpoints compiled once (the
 * composition root takes these; nothing compiles the documents again). Each source is
 * validated on its own first, so an error names the file, variable or flag it came from.
 * @throws ConfigError listing every problem.
 */
export function compileServer(sources: ServerConfigSources): { config: ServerConfig; endpoints: ReadonlyMap<string, EndpointConfig> } {
  const fileLayer = sources.file === undefined ? {} : (sources.file.document ?? {});
  if (sources.file !== undefined) validateConfig(PartialServerConfigSchema, fileLayer, sources.file.path);
  validateConfig(PartialServerConfigSchema, sources.env, 'environment');
  validateConfig(PartialServerConfigSchema, sources.flags, 'command line');
  const merged = merge(merge(merge(sources.defaults as unknown as Layer, fileLayer as Layer), sources.env), sources.flags);
  const config = validateConfig<ServerConfig>(ServerConfigSchema, merged, 'configuration');
  // The rules between an endpoint's fields, named by the file and the endpoint's path.
  const { endpoints, problems } = compileEndpointConfigs(config.endpoints, sources.file?.path ?? 'configuration');
  for (const [name, schedule] of Object.entries(config.schedules)) problems.push(...scheduleProblems(name, schedule));
  problems.push(...httpProblems(config.http));
  problems.push(...tlsProblems(config.tls));
  if (config.shutdownGracePeriodMs > config.drainTimeoutMs) {
    problems.push({
      path: 'shutdownGracePeriodMs',
      message: `${config.shutdownGracePeriodMs} is more than drainTimeoutMs (${config.drainTimeoutMs}); the grace period is part of the drain, so expected at most ${config.drainTimeoutMs} (or raise drainTimeoutMs)`,
    });
  }
  if (problems.length > 0) throw new ConfigError(sources.file?.path ?? 'configuration', problems);
  return { config: frozen(config), endpoints };
}

function frozen(config: ServerConfig): ServerConfig {
  return Object.freeze({
    ...config,
    loadModels: Object.freeze([...config.loadModels]) as string[],
    http: Object.freeze({
      ...config.http,
      corsOrigins: Object.freeze([...config.http.corsOrigins]) as string[],
      allowedHosts: Object.freeze([...config.http.allowedHosts]) as string[],
      allowedOrigins: Object.freeze([...config.http.allowedOrigins]) as string[],
    }),
    grpc: Object.freeze({ ...config.grpc }),
    responseCache: Object.freeze({ ...config.responseCache }),
    metrics: Object.freeze({ ...config.metrics }),
    batch: Object.freeze({ ...config.batch }),
    sandbox: Object.freeze({ sourceRoots: Object.freeze([...config.sandbox.sourceRoots]) as string[], connections: Object.freeze({ ...config.sandbox.connections }) }),
    predictionLog: Object.freeze({ ...config.predictionLog }),
    schedules: Object.freeze({ ...config.schedules }),
    predictionStore: Object.freeze({ ...config.predictionStore }),
    rateLimits: Object.freeze({ ...config.rateLimits }),
    tls: Object.freeze({ ...config.tls, clientPrincipals: Object.freeze({ ...config.tls.clientPrincipals }) }),
    auth: Object.freeze({ ...config.auth }),
    audit: Object.freeze({ ...config.audit }),
    management: Object.freeze({ ...config.management }),
    limits: Object.freeze({ ...config.limits }),
  });
}
