// Sibyl inside a Node application (the embedding API): the serving core without a listener of its
// own. The application calls infer() in process — versions, labels, endpoints, dynamic batching
// and hot swap (modelControlMode: poll) work exactly as in `sibyl serve` — and may mount Sibyl's
// HTTP routes (V2, TF Serving, management, metrics) on its own Fastify instance as a plugin.
// A composition root like server.ts: it builds the core with the same builder.
import { SibylError, type InferRequest, type InferResponse } from '@sibyl/protocol';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { compileServer, serverConfigDefaults, type ServerConfigDocument } from './config/server-config.ts';
import type { Cancellation } from './core/cancellation.ts';
import type { Principal } from './core/request-context.ts';
import { createAccessControl, requireScope } from './security/access-control.ts';
import type { Clock } from './core/clock.ts';
import type { Random } from './core/random.ts';
import { registerHttpRoutes } from './frontends/http/app.ts';
import { availableMemoryBytes, resolveHttpLimits } from './frontends/http/http-limits.ts';
import type { Runtime } from './runtimes/runtime.ts';
import { createSibylCore } from './serving/sibyl-core.ts';
import type { ServingApi } from './serving/serving-api.ts';

export interface SibylOptions {
  /** The model repository: `<repo>/<model>/<version>/model.onnx`. */
  modelRepository: string;
  /**
   * Settings of sibyl.yaml (the same schema, camelCase: endpoints, modelControlMode, loadModels,
   * requestTimeoutMs, responseCache, predictionLog…). Listener settings (host, ports) do not apply.
   * Defaults as for `sibyl serve`, except that state and stored predictions are kept in memory
   * unless `stateStore` / `predictionStore` name files.
   */
  config?: Omit<ServerConfigDocument, 'modelRepository'>;
  /** Default: silent. Pass the application's pino logger to see Sibyl's lines. */
  log?: Logger;
  /** Default: onnxruntime-node in worker threads. */
  runtime?: Runtime;
  clock?: Clock;
  random?: Random;
  /** Environment for OTEL_* (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** How a call names what it wants besides the model or endpoint name. */
export interface InferOptions {
  /** A version number (as text) or a label (`stable`, `canary`) of the model; default: its default route (or the endpoint's policy). */
  version?: string;
  label?: string;
  /** The request's id in the prediction log and traces; default: the request's `id`, else generated. */
  requestId?: string;
  /** Cancels the request (queued work is dropped). */
  signal?: Cancellation;
  /** Gives up after this many ms (DEADLINE_EXCEEDED); default: the configured requestTimeoutMs. */
  timeoutMs?: number;
  /** Request headers for sticky routing keys of split endpoints (lower-case names). */
  headers?: Readonly<Record<string, string>>;
  /**
   * The application's caller, checked with the server's one rule (it needs `infer:<name>`,
   * `infer:*` or `admin`; SCOPE_MISSING otherwise), carried to the prediction log, and counted
   * against its own bucket of rateLimits.perPrincipal. Absent: the application has checked (or
   * needs no check), and the anonymous bucket applies.
   */
  principal?: Principal;
}

/** The options of Sibyl's Fastify plugin. */
export interface SibylPluginOptions {
  /** Rejects requests while the application shuts down (503 SERVER_DRAINING); default never. */
  isDraining?: () => boolean;
  /** One log line per request. */
  accessLog?: boolean;
  /** Origins whose pages may call the API (CORS). */
  corsOrigins?: readonly string[];
  /** Names the Host header may carry (DNS rebinding defence; see docs/security.md); default: config.http.allowedHosts. */
  allowedHosts?: readonly string[];
  /** Origins whose pages may post without CORS; default: config.http.allowedOrigins. */
  allowedOrigins?: readonly string[];
}

export interface Sibyl {
  /**
   * Predicts in process: `name` is a model or an endpoint. Ownership of the request's tensor
   * buffers passes to Sibyl. @throws SibylError (its `code` and `reason` say what was wrong).
   */
  infer(name: string, request: InferRequest, options?: InferOptions): Promise<InferResponse>;
  /** The serving core: model and endpoint control, batch jobs, metrics and health. */
  readonly core: ServingApi;
  /**
   * A Fastify plugin with Sibyl's HTTP routes (`/v2/...`, `/v1/models/...`, management,
   * `/metrics`): `await app.register(sibyl.fastifyPlugin)`. Its hooks, body parsing and error
   * format stay inside the plugin's encapsulation context; the application's routes are untouched.
   */
  readonly fastifyPlugin: (app: FastifyInstance, options: SibylPluginOptions) => Promise<void>;
  /** Unloads the models (waiting for requests in flight at most `drainTimeoutMs`), flushes observability, closes the stores. Idempotent. */
  close(): Promise<void>;
}

/** Starts Sibyl in this process: builds the serving core and loads the models (resolves once they are loaded). */
export async function createSibyl(options: SibylOptions): Promise<Sibyl> {
  const defaults = serverConfigDefaults(options.modelRepository);
  // The application's settings are input like sibyl.yaml: validated by the same schema (a
  // ConfigError names each field that is wrong), and the endpoints compiled once, here.
  const { config, endpoints } = compileServer({
    defaults: { ...defaults, stateStore: ':memory:', predictionStore: { ...defaults.predictionStore, path: ':memory:' } },
    file: { path: 'createSibyl options.config', document: options.config ?? {} },
    env: {},
    flags: { modelRepository: options.modelRepository },
  });
  const log = options.log ?? pino({ level: 'silent' });
  // The plugin's routes authenticate like the server's when the settings configure `auth`.
  const access = await createAccessControl({ auth: config.auth, auditFile: config.audit.file, log });
  const core = await createSibylCore(config, { log, clock: options.clock, runtime: options.runtime, random: options.random, env: options.env, observability: {}, endpoints });
  try {
    await core.start();
    await core.startJobs();
  } catch (err) {
    await core.release(0);
    await core.closeStores();
    throw err;
  }
  let closing: Promise<void> | undefined;
  let closed = false;
  return {
    core,
    infer(name, request, o = {}) {
      if (closed) return Promise.reject(new SibylError('SERVER_DRAINING', 'this Sibyl instance is closed (close() was called); it takes no new requests'));
      if (o.principal !== undefined) {
        try {
          requireScope(o.principal, `infer:${name}`);
        } catch (err) {
          return Promise.reject(err as Error);
        }
      }
      const headers = o.headers;
      const context = core.newContext('embedded', {
        requestId: o.requestId ?? request.id,
        signal: o.signal,
        deadlineMs: o.timeoutMs === undefined ? undefined : core.clock.now() + o.timeoutMs,
        header: headers === undefined ? undefined : (h) => headers[h],
        principal: o.principal,
      });
      return core.infer(name, { version: o.version, label: o.label }, request, context);
    },
    fastifyPlugin: async (app, pluginOptions) => {
      registerHttpRoutes(app, {
        core,
        log,
        limits: resolveHttpLimits(config.http, availableMemoryBytes()),
        isDraining: () => closed || (pluginOptions.isDraining?.() ?? false),
        isReady: () => !closed && core.loaded,
        notReadyReason: () => 'Sibyl is still loading its models',
        serverName: 'sibyl',
        serverVersion: core.serverVersion,
        accessLog: pluginOptions.accessLog,
        corsOrigins: pluginOptions.corsOrigins,
        allowedHosts: pluginOptions.allowedHosts ?? config.http.allowedHosts,
        allowedOrigins: pluginOptions.allowedOrigins ?? config.http.allowedOrigins,
        access,
      });
    },
    close() {
      closed = true;
      closing ??= (async () => {
        await core.stopJobs();
        await core.release(config.drainTimeoutMs);
        await core.closeStores();
        await access.audit.close();
      })();
      return closing;
    },
  };
}
