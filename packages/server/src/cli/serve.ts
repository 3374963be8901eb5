// `sibyl serve`: compile the configuration, start the server, print what it serves, and shut
// down gracefully on SIGTERM/SIGINT (exit code 0), within a bound: a second signal, or a shutdown
// that overruns drainTimeoutMs + SHUTDOWN_RELEASE_MS, ends the process at once.
import path from 'node:path';
import { pino } from 'pino';
import { compileServer, environmentLayer, flagsLayer, serverConfigDefaults } from '../config/server-config.ts';
import { readYamlFile } from '../config/yaml-file.ts';
import { routeProcessWarnings } from '../observability/logging/process-warnings.ts';
import { SHUTDOWN_RELEASE_MS, SibylServer } from '../server.ts';

export async function serve(flags: Record<string, string | string[] | undefined>, exampleRepository: string): Promise<number> {
  const configFile = typeof flags.config === 'string' ? flags.config : undefined;
  const file = configFile === undefined ? undefined : { path: configFile, document: relativeToFile(await readYamlFile(configFile), configFile) };
  const env = environmentLayer(process.env);
  const { config, endpoints } = compileServer({ defaults: serverConfigDefaults(exampleRepository), file, env: env.layer, flags: flagsLayer(flags) });
  const modelRepository = path.resolve(config.modelRepository);
  const configDir = configFile === undefined ? process.cwd() : path.dirname(path.resolve(configFile));
  const server = await SibylServer.create({ config: { ...config, modelRepository }, endpoints, configDir });
  // From here on Node's warnings are JSON log lines too (stdout holds nothing else).
  const unrouteWarnings = routeProcessWarnings(process, server.log, server.lineLimiter);
  for (const warning of env.warnings) server.log.warn(warning);

  let stopping = false;
  let stopped!: (code: number) => void;
  const shutDown = new Promise<number>((resolve) => (stopped = resolve));
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      forceExit(server, `${signal} again: exiting now`);
      return;
    }
    stopping = true;
    // Ctrl-C is an operator at a terminal, not a load balancer to wait for: no grace period.
    const gracePeriodMs = signal === 'SIGINT' ? 0 : undefined;
    server.log.info(`${signal} received${signal === 'SIGINT' ? ' (no grace period)' : ''}`);
    // Ref'd on purpose: the process stays up while shutdown releases resources that hold no
    // handle of their own, and a shutdown that overruns its bound still ends.
    const watchdogMs = config.drainTimeoutMs + SHUTDOWN_RELEASE_MS + WATCHDOG_MARGIN_MS;
    const watchdog = setTimeout(() => forceExit(server, `shutdown did not finish within ${watchdogMs} ms: exiting now`), watchdogMs);
    void server.shutdown({ gracePeriodMs }).then(
      (result) => {
        clearTimeout(watchdog);
        if (!result.released) forceExit(server, 'shut down, but something still runs (see the warnings above): exiting now');
        else stopped(0);
      },
      (err: unknown) => {
        clearTimeout(watchdog);
        server.log.error({ err }, `shutdown failed: ${(err as Error).message}`);
        stopped(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    const url = await server.start();
    const metricsUrl = server.metricsUrl;
    const grpcAddress = server.grpcAddress;
    server.log.info(
      { url, grpcAddress, modelRepository, pid: process.pid, ...(metricsUrl === undefined ? {} : { metricsUrl }) },
      `Sibyl ${server.version} serves ${modelRepository} on ${url} and gRPC ${grpcAddress}${metricsUrl === undefined ? '' : `; metrics on ${metricsUrl}/metrics`}`,
    );
    for (const m of server.models.list()) {
      const served = m.served;
      if (served !== undefined) {
        const inputs = served.signature.inputs.map((t) => `${t.name} ${t.datatype}[${t.shape.join(',')}]`).join(', ');
        server.log.info({ model: m.name, version: served.version, state: 'READY' }, `  ${m.name} v${served.version} READY (${inputs}): POST ${url}/v2/models/${m.name}/infer`);
      } else if (m.defaultVersion !== undefined) {
        server.log.info({ model: m.name, version: m.defaultVersion, state: 'UNAVAILABLE', reason: 'loads on demand' }, `  ${m.name} v${m.defaultVersion} loads on the first request (residency limit)`);
      } else if (!m.wanted) {
        server.log.info({ model: m.name, state: 'UNAVAILABLE', reason: 'not loaded' }, `  ${m.name} not loaded (model control mode explicit): POST ${url}/v2/repository/models/${m.name}/load`);
      } else {
        const v = m.versions.at(-1);
        const reason = m.problem || v?.reason || '';
        server.log.warn({ model: m.name, version: v?.version, state: 'UNAVAILABLE', reason }, `  ${m.name}${v === undefined ? '' : ` v${v.version}`} UNAVAILABLE: ${reason}`);
      }
    }
  } catch (err) {
    server.log.fatal({ err }, `cannot start: ${(err as Error).message}`);
    await server.shutdown({ gracePeriodMs: 0 }).catch(() => undefined);
    unrouteWarnings();
    return 1;
  }
  const code = await shutDown;
  unrouteWarnings();
  // Everything the server opened is closed; a handle left open elsewhere must not keep the
  // process alive (the timer is unref'd: it fires only if something still does).
  setTimeout(() => {
    server.log.warn({ activeResources: process.getActiveResourcesInfo() }, 'still running 2 s after shutting down: exiting');
    process.exit(code);
  }, 2000).unref();
  return code;
}

/** Time the watchdog allows beyond drainTimeoutMs + SHUTDOWN_RELEASE_MS before it ends the process. */
const WATCHDOG_MARGIN_MS = 2000;

/**
 * Ends the process within FORCE_EXIT_FLUSH_MS, after writing `message` and what still runs. With SIGKILL, not
 * process.exit(): process.exit waits for worker threads, and one inside an onnxruntime run
 * would keep it waiting until the run ends, then abort (see onnx-runtime.ts).
 */
function forceExit(server: SibylServer, message: string): void {
  server.log.fatal({ activeResources: process.getActiveResourcesInfo() }, message);
  // The log's destination (sonic-boom) may have an asynchronous write in flight: flushSync skips
  // it, and SIGKILL would cut it short (the last lines lost under load; sonic-boom's flush(cb)
  // does not wait for it either). Wait until it lands, at most FORCE_EXIT_FLUSH_MS, then write
  // what is left synchronously and exit.
  const stream = (server.log as unknown as Record<symbol, { _writing?: boolean; flushSync?: () => void } | undefined>)[pino.symbols.streamSym];
  const deadline = Date.now() + FORCE_EXIT_FLUSH_MS;
  const exit = (): void => {
    if (stream?._writing === true && Date.now() < deadline) {
      setTimeout(exit, 1);
      return;
    }
    try {
      stream?.flushSync?.();
    } catch {
      // Exiting now matters more than the last log line.
    }
    process.kill(process.pid, 'SIGKILL');
  };
  exit();
}

/** Longest wait for the log to be written before a forced exit. */
const FORCE_EXIT_FLUSH_MS = 500;

/** A relative modelRepository, stateStore, predictionStore.path, schedule's job file or tls file in a config file means relative to the file's folder. */
export function relativeToFile(document: unknown, file: string): unknown {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return document;
  const out = { ...(document as Record<string, unknown>) };
  const resolve = (value: unknown): unknown => (typeof value === 'string' && value !== '' && value !== ':memory:' && !path.isAbsolute(value) ? path.resolve(path.dirname(file), value) : value);
  for (const field of ['modelRepository', 'stateStore']) if (field in out) out[field] = resolve(out[field]);
  const store = out.predictionStore;
  if (store !== null && typeof store === 'object' && !Array.isArray(store) && 'path' in store) out.predictionStore = { ...store, path: resolve(store.path) };
  const tls = out.tls;
  if (tls !== null && typeof tls === 'object' && !Array.isArray(tls)) {
    const files = Object.entries(tls as Record<string, unknown>).map(([key, value]) => [key, ['certFile', 'keyFile', 'caFile'].includes(key) ? resolve(value) : value]);
    out.tls = Object.fromEntries(files);
  }
  const schedules = out.schedules;
  if (schedules !== null && typeof schedules === 'object' && !Array.isArray(schedules)) {
    out.schedules = Object.fromEntries(
      Object.entries(schedules as Record<string, unknown>).map(([name, s]) =>
        s !== null && typeof s === 'object' && !Array.isArray(s) && 'job' in s ? [name, { ...(s as Record<string, unknown>), job: resolve((s as Record<string, unknown>).job) }] : [name, s],
      ),
    );
  }
  return out;
}
