// Issue 13 H4: every network operation of batch has a connect and handshake timeout, and an
// abort stops a wait at once. The far end is a TCP server of our own on port 0 that accepts
// connections and never says a word (no PostgreSQL or Redis needed).
import { SibylError } from '@sibyl/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createSystemClock } from '../core/clock.ts';
import { MemoryPredictionStore } from '../testing/index.ts';
import { SilentServer } from '../testing/silent-server.ts';
import { runDistributedJob } from './distributed/coordinator.ts';
import { connectRedis } from './distributed/redis-connection.ts';
import { PostgresPredictionStore } from './postgres-prediction-store.ts';
import { PostgresQuerySource } from './sources/sql-source.ts';

let silent: SilentServer;
beforeEach(async () => {
  silent = await SilentServer.start();
});
afterEach(async () => {
  await silent.close();
});

async function readAll(source: PostgresQuerySource, signal?: AbortSignal): Promise<number> {
  let rows = 0;
  for await (const chunk of source.chunks({ chunkRows: 10, ...(signal === undefined ? {} : { signal }) })) rows += chunk.rows.length;
  return rows;
}

describe('PostgreSQL source', () => {
  it('fails with a connect and handshake timeout naming the server and the bound, and closes its socket', async () => {
    const source = PostgresQuerySource.create(`postgres://x:secret@127.0.0.1:${silent.port}/x`, 'SELECT 1', { connectTimeoutMs: 150 });
    expect(await source.countRows()).toBeUndefined();
    const error = await readAll(source).then(
      () => undefined,
      (err: unknown) => err as SibylError,
    );
    expect(error).toBeInstanceOf(SibylError);
    expect(error!.reason).toBe('BATCH_SOURCE_INVALID');
    expect(error!.message).toBe(`cannot connect to the PostgreSQL source postgres://x:***@127.0.0.1:${silent.port}/x: no answer to the connection and handshake within connectTimeoutMs (150 ms); is it a PostgreSQL server?`);
    await silent.clientsGone();
    expect(silent.sockets.size).toBe(0);
  });

  it('stops waiting for the handshake when the signal aborts, whatever the timeout', async () => {
    const source = PostgresQuerySource.create(`postgres://x@127.0.0.1:${silent.port}/x`, 'SELECT 1', { connectTimeoutMs: 600_000 });
    const controller = new AbortController();
    const connected = silent.nextConnection();
    const reading = readAll(source, controller.signal);
    await connected;
    controller.abort();
    await expect(reading).rejects.toMatchObject({ reason: 'REQUEST_CANCELLED' });
    await silent.clientsGone();
    expect(await source.countRows(controller.signal)).toBeUndefined();
  });
});

describe('PostgreSQL prediction store', () => {
  it('fails to open within its connect timeout', async () => {
    await expect(PostgresPredictionStore.open({ url: `postgres://x@127.0.0.1:${silent.port}/x`, connectTimeoutMs: 150 })).rejects.toThrow(/cannot open the PostgreSQL prediction store \(tables sibyl_\*\): .*timeout/i);
    await silent.clientsGone();
  });
});

describe('Redis of distributed jobs', () => {
  it('fails to connect when the server never answers a PING within the bound', async () => {
    await expect(connectRedis(`redis://:secret@127.0.0.1:${silent.port}`, { connectTimeoutMs: 150 })).rejects.toThrow(
      `cannot reach Redis at redis://:***@127.0.0.1:${silent.port}: no answer to the connection and a PING within 150 ms; is it a Redis server?`,
    );
    await silent.clientsGone();
  });
});

describe('a distributed job whose Redis never answers', () => {
  it('fails with the reason and saves its record, without reading its source', async () => {
    const store = await MemoryPredictionStore.open();
    let read = false;
    const record = { id: 'j1', name: 'd', status: 'queued' as const, spec: {}, origin: 'distributed', createdAtMs: 1, rowsRead: 0, rowsWritten: 0, rowsRejected: 0, chunksCommitted: 0 };
    const final = await runDistributedJob({
      record,
      source: {
        chunks() {
          read = true;
          return (async function* () {})();
        },
        close: async () => undefined,
      },
      columns: ['a'],
      chunkRows: 10,
      store,
      descriptor: { spec: {} },
      redisUrl: `redis://127.0.0.1:${silent.port}`,
      redisConnectTimeoutMs: 150,
      prefix: 'sibyl-test',
      clock: createSystemClock(),
      log: pino({ level: 'silent' }),
    });
    expect(final).toMatchObject({ id: 'j1', status: 'failed', error: `cannot reach Redis at redis://127.0.0.1:${silent.port}: no answer to the connection and a PING within 150 ms; is it a Redis server?` });
    expect(await store.getJob('j1')).toMatchObject({ status: 'failed' });
    expect(read).toBe(false);
    await silent.clientsGone();
  });
});
