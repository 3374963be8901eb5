// Servers for tests: an in-process SibylServer over a model repository (HTTP through Fastify
// inject, no socket), and the real `sibyl serve` binary started on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { serverConfigDefaults, type ServerConfig } from '../config/server-config.ts';
import { SibylServer } from '../server.ts';

export interface TestServerOptions {
  drainTimeoutMs?: number;
  bodyLimitBytes?: number;
}

/** An in-process server with its models loaded; not listening. Call `shutdown()` when done. */
export async function createTestServer(repository: string, options: TestServerOptions = {}): Promise<SibylServer> {
  const defaults = serverConfigDefaults(repository);
  const config: ServerConfig = {
    ...defaults,
    logLevel: 'silent',
    drainTimeoutMs: options.drainTimeoutMs ?? defaults.drainTimeoutMs,
    http: { port: 0, bodyLimitBytes: options.bodyLimitBytes ?? defaults.http.bodyLimitBytes },
  };
  const server = new SibylServer({ config, log: pino({ level: 'silent' }) });
  await server.models.loadAll();
  await server.http.ready();
  return server;
}

const BIN = fileURLToPath(new URL('../../bin/sibyl.js', import.meta.url));

export interface SpawnedServer {
  process: ChildProcess;
  url: string;
  /** Every log line so far (pino JSON, parsed). */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `sibyl serve` (the real binary) on a free port and resolves once it serves every model
 * of the repository. Rejects with the output when it exits first or takes over `timeoutMs`.
 */
export function spawnSibyl(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [BIN, 'serve', '--http-port', '0', ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise<SpawnedServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sibyl serve did not start in time; output:\n${output}`));
    }, options.timeoutMs ?? 30_000);
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
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
        logs.push(entry);
        if (typeof entry.url === 'string' && typeof entry.modelRepository === 'string') {
          clearTimeout(timer);
          const url = entry.url;
          resolve({
            process: child,
            url,
            logs,
            exited,
            stop: () => {
              child.kill('SIGTERM');
              return exited;
            },
          });
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sibyl serve exited with code ${code} before serving; output:\n${output}`));
    });
  });
}
