// `sibyl serve`: compile the configuration, start the server, print what it serves, and shut
// down gracefully on SIGTERM/SIGINT (exit code 0).
import path from 'node:path';
import { compileServerConfig, environmentLayer, flagsLayer, serverConfigDefaults } from '../config/server-config.ts';
import { readYamlFile } from '../config/yaml-file.ts';
import { routeProcessWarnings } from '../observability/logging/process-warnings.ts';
import { SibylServer } from '../server.ts';

export async function serve(flags: Record<string, string | string[] | undefined>, exampleRepository: string): Promise<number> {
  const configFile = typeof flags.config === 'string' ? flags.config : undefined;
  const file = configFile === undefined ? undefined : { path: configFile, document: relativeToFile(await readYamlFile(configFile), configFile) };
  const env = environmentLayer(process.env);
  const config = compileServerConfig({ defaults: serverConfigDefaults(exampleRepository), file, env: env.layer, flags: flagsLayer(flags) });
  const modelRepository = path.resolve(config.modelRepository);
  const configDir = configFile === undefined ? process.cwd() : path.dirname(path.resolve(configFile));
  const server = await SibylServer.create({ config: { ...config, modelRepository }, configDir });
  // From here on Node's warnings are JSON log lines too (stdout holds nothing else).
  const unrouteWarnings = routeProcessWarnings(process, server.log, server.lineLimiter);
  for (const warning of env.warnings) server.log.warn(warning);

  let stopping: Promise<void> | undefined;
  let stopped!: () => void;
  const shutDown = new Promise<void>((resolve) => (stopped = resolve));
  const stop = (signal: string): void => {
    if (stopping !== undefined) {
      server.log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    server.log.info(`${signal} received`);
    stopping = server.shutdown();
    void stopping.then(stopped);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    const url = await server.start();
    const metricsUrl = server.metricsUrl;
    const grpcAddress = server.grpcAddress;
    server.log.info(
      { url, grpcAddress, modelRepository, ...(metricsUrl === undefined ? {} : { metricsUrl }) },
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
    await server.shutdown().catch(() => undefined);
    unrouteWarnings();
    return 1;
  }
  await shutDown;
  unrouteWarnings();
  return 0;
}

/** A relative modelRepository, stateStore, predictionStore.path or schedule's job file in a config file means relative to the file's folder. */
export function relativeToFile(document: unknown, file: string): unknown {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return document;
  const out = { ...(document as Record<string, unknown>) };
  const resolve = (value: unknown): unknown => (typeof value === 'string' && value !== '' && value !== ':memory:' && !path.isAbsolute(value) ? path.resolve(path.dirname(file), value) : value);
  for (const field of ['modelRepository', 'stateStore']) if (field in out) out[field] = resolve(out[field]);
  const store = out.predictionStore;
  if (store !== null && typeof store === 'object' && !Array.isArray(store) && 'path' in store) out.predictionStore = { ...store, path: resolve(store.path) };
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
