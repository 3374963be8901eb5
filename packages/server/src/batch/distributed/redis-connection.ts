// Connections of distributed batch jobs to Redis, with bounds: the TCP connection and the first
// answer (a PING: Redis speaks) within connectTimeoutMs, or the call fails saying so — a port
// that accepts and never answers (or is not Redis) cannot hold a coordinator or a worker pool.
// `commandTimeoutMs` bounds every command of a connection that sends no blocking commands (the
// coordinator's queue, the worker pool's registry); BullMQ's workers and event readers block
// on purpose and get none.
import { Redis } from 'ioredis';
import { redactUrl } from '../redact-url.ts';

export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 30_000;

/**
 * A connection that answered a PING within `connectTimeoutMs`.
 * @throws Error naming the URL (without its password) and the bound, the connection closed.
 */
export async function connectRedis(url: string, options: { connectTimeoutMs?: number; commandTimeoutMs?: number } = {}): Promise<Redis> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS;
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectTimeout: timeoutMs, ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }) });
  let lastError: Error | undefined;
  const onError = (err: Error): void => {
    lastError = err;
  };
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to the connection and a PING within ${timeoutMs} ms${lastError === undefined ? '; is it a Redis server?' : ` (${lastError.message})`}`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
  return redis;
}
