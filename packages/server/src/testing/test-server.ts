// Servers for tests: an in-process SibylServer over a model repository (HTTP through Fastify
// inject, no socket), and the real `sibyl serve` binary started on a free port.
import type { Readable } from 'node:stream';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { serverConfigDefaults, type ServerConfig } from '../config/server-config.ts';
import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/random.ts';
import type { Runtime } from '../runtimes/runtime.ts';
import { SibylServer, type SibylServerOptions } from '../server.ts';
import type { StateStore } from '../state/state-store.ts';

export interface TestServerOptions extends Partial<Omit<ServerConfig, 'http' | 'modelRepository'>> {
  bodyLimitBytes?: number;
  /** Other http settings (limits, timeouts); the port is always 0. */
  http?: Partial<Omit<ServerConfig['http'], 'port'>>;
  clock?: Clock;
  runtime?: Runtime;
  /** Default: a fresh in-memory store. */
  store?: StateStore;
  random?: Random;
  /** Default: silent. Pass one to read what the server logs. */
  log?: Logger;
  /** Environment for OTEL_* (default: none). */
  env?: NodeJS.ProcessEnv;
  observability?: SibylServerOptions['observability'];
  corsOrigins?: string[];
  /** Folder job files given to the batch API resolve against (sibyl.yaml's folder). Default: the working directory. */
  configDir?: string;
}

/**
 * An in-process server with its models loaded; not listening. Settings default to the server's
 * defaults, with a silent log, in-memory state and prediction stores and no shutdown grace
 * period; gRPC is bound by
 * `server.grpc.listen(host, 0)`. Call `shutdown()` when done.
 */
export async function createTestServer(repository: string, options: TestServerOptions = {}): Promise<SibylServer> {
  const defaults = serverConfigDefaults(repository);
  const { bodyLimitBytes, corsOrigins, http, clock, runtime, store, random, log, env, observability, configDir, ...settings } = options;
  const config: ServerConfig = {
    ...defaults,
    logLevel: 'silent',
    stateStore: ':memory:',
    predictionStore: { ...defaults.predictionStore, path: ':memory:' },
    // No load balancer to wait for: shutdown() closes as soon as the requests in flight are answered.
    shutdownGracePeriodMs: 0,
    ...settings,
    http: { ...defaults.http, ...http, port: 0, bodyLimitBytes: bodyLimitBytes ?? http?.bodyLimitBytes ?? defaults.http.bodyLimitBytes, corsOrigins: corsOrigins ?? http?.corsOrigins ?? [] },
    grpc: { ...defaults.grpc, ...settings.grpc, port: 0 },
  };
  const server = await SibylServer.create({ config, log: log ?? pino({ level: 'silent' }), clock, runtime, stateStore: store, random, env: env ?? {}, observability, configDir });
  await server.endpoints.load();
  await server.models.start();
  await server.http.ready();
  return server;
}

const BIN = fileURLToPath(new URL('../../bin/sibyl.js', import.meta.url));

export interface SpawnedServer {
  process: ChildProcess;
  url: string;
  /** The metrics listener's URL, when started with --metrics-port. */
  metricsUrl: string | undefined;
  /** host:port of its gRPC server. */
  grpcAddress: string;
  /** Every log line so far (pino JSON, parsed). */
  logs: Record<string, unknown>[];
  /** Everything written so far to stdout and to stderr, as text (stdout should hold only log lines). */
  output: { stdout: string; stderr: string };
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** Resolves with the first log line (so far or to come) `match` accepts; rejects naming `what` after `timeoutMs` (default 30 s). */
  waitForLog(match: (entry: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/**
 * Starts `sibyl serve` (the real binary) on a free port and resolves once it serves every model
 * of the repository. Rejects with the output when it exits first or takes over `timeoutMs`.
 * Its shutdown grace period is 0 unless `args` set --shutdown-grace-period-ms (the last flag wins).
 */
export function spawnSibyl(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [BIN, 'serve', '--http-port', '0', '--grpc-port', '0', '--shutdown-grace-period-ms', '0', ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<(entry: Record<string, unknown>) => void>();
  const waitForLog = (match: (entry: Record<string, unknown>) => boolean, what: string, timeoutMs = 30_000): Promise<Record<string, unknown>> => {
    const found = logs.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = (entry: Record<string, unknown>): void => {
        if (!match(entry)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(entry);
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no log line ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };
  const streams = { stdout: '', stderr: '' };
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise<SpawnedServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sibyl serve did not start in time; output:\n${output}`));
    }, options.timeoutMs ?? 30_000);
    readJsonLines(child.stdout!, (text) => ((output += text), (streams.stdout += text)), (entry) => {
      logs.push(entry);
      for (const waiter of [...waiters]) waiter(entry);
      if (typeof entry.url === 'string' && typeof entry.modelRepository === 'string') {
        clearTimeout(timer);
        const url = entry.url;
        resolve({
          process: child,
          url,
          metricsUrl: typeof entry.metricsUrl === 'string' ? entry.metricsUrl : undefined,
          grpcAddress: String(entry.grpcAddress),
          logs,
          output: streams,
          exited,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
          waitForLog,
        });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => ((output += chunk), (streams.stderr += chunk)));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sibyl serve exited with code ${code} before serving; output:\n${output}`));
    });
  });
}

/**
 * Follows a child process's output: `onText` gets all of it, `onEntry` each line that parses as
 * JSON (pino's log lines; other lines are skipped).
 */
export function readJsonLines(stream: Readable, onText: (text: string) => void, onEntry: (entry: Record<string, unknown>) => void): void {
  let buffered = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    onText(chunk);
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      onEntry(entry);
    }
  });
}
