// The prediction log: samples requests per model (config.yaml predictionLog.sampleRate), applies
// the field rules at once, and queues records for a sink that writes them in batches, off the
// request path. A full queue drops records (counted) instead of slowing requests; a failing sink
// drops them (counted, logged) instead of failing requests.
import { randomBytes } from 'node:crypto';
import type { InferRequest } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { Clock, CancelTimer } from '../../core/clock.ts';
import type { ComponentHealth } from '../../core/component-health.ts';
import type { Random } from '../../core/random.ts';
import { PREDICTION_LOG_WRITE_TIMEOUT_MS, type PredictionLogServerConfig } from '../../config/prediction-log-config.ts';
import type { ServedVersion } from '../../models/served-version.ts';
import type { InferOutcome } from '../../routing/inference-observer.ts';
import type { SibylMetrics } from '../metrics/metrics.ts';
import type { LoggedTensor, PredictionQuery, PredictionRecord, PredictionSink } from './record.ts';
import { Redactor } from './redaction.ts';

export interface PredictionLoggerOptions {
  config: PredictionLogServerConfig;
  /** Opens the sink; called once, on the first record or query. */
  openSink: () => Promise<PredictionSink>;
  clock: Clock;
  random?: Random;
  log: Logger;
  metrics?: SibylMetrics;
  /** Told of every batch written or failed: the sink is `prediction_log` (degraded while it fails). */
  health?: ComponentHealth;
  /** Models and their retention in days (0: forever), for the retention sweep. */
  retention: () => { model: string; days: number }[];
}

/** What sample() keeps of a request: its inputs, already redacted. */
interface Capture {
  inputs: LoggedTensor[];
  redactor: Redactor;
}

const RETENTION_SWEEP_MS = 60 * 60 * 1000;

export class PredictionLogger {
  private readonly redactors = new WeakMap<ServedVersion, Redactor | null>();
  private readonly hashKey: Buffer;
  private readonly random: Random;
  private queue: PredictionRecord[] = [];
  private sink: Promise<PredictionSink> | undefined;
  private flushing: Promise<void> | undefined;
  private flushTimer: CancelTimer | undefined;
  private sweepTimer: CancelTimer | undefined;
  private closed = false;
  private lastFailureLogMs = Number.NEGATIVE_INFINITY;
  /**
   * A write that timed out and has not settled yet. Later batches fail at once until it does, so
   * a sink that stops answering holds one batch, not one more per writeTimeoutMs.
   */
  private abandonedWrite: Promise<void> | undefined;

  constructor(private readonly options: PredictionLoggerOptions) {
    const key = options.config.hashKey;
    this.hashKey = key === '' ? randomBytes(32) : Buffer.from(key, 'utf8');
    this.random = options.random ?? Math.random;
    options.metrics?.gauge('sibyl_prediction_log_queue_records').set(0);
  }

  /** Whether any hash rule uses a key made at start (and so hashes differ between runs). */
  get ephemeralKey(): boolean {
    return this.options.config.hashKey === '';
  }

  /** Decides whether to record this request; if so, captures its inputs (redacted). */
  sample(served: ServedVersion, request: InferRequest): Capture | undefined {
    const redactor = this.redactorOf(served);
    if (redactor === null || (redactor.sampleRate < 1 && this.random() >= redactor.sampleRate)) return undefined;
    return { inputs: request.inputs.map((t) => redactor.apply(t)), redactor };
  }

  /** Queues the record of a sampled request (outcome.token is what sample() returned). */
  record(outcome: InferOutcome): void {
    const capture = outcome.token as Capture;
    const served = outcome.served!;
    const error = outcome.error;
    const record: PredictionRecord = {
      timeMs: this.options.clock.epochMs(),
      model: served.name,
      version: String(served.version),
      requestId: outcome.context?.requestId ?? '',
      latencyMs: outcome.totalMs,
      outcome: error === undefined ? 'success' : 'error',
      inputs: capture.inputs,
      outputs: outcome.response === undefined ? [] : outcome.response.outputs.map((t) => capture.redactor.apply(t)),
    };
    const principal = outcome.context?.principal;
    if (principal !== undefined) record.principal = principal.id;
    if (outcome.request?.id !== undefined) record.id = outcome.request.id;
    if (error !== undefined) record.error = { code: error.code, reason: error.reason };
    if (this.closed || this.queue.length >= this.options.config.queueRecords) {
      this.count(record.model, 'dropped', 1);
      return;
    }
    this.queue.push(record);
    this.options.metrics?.gauge('sibyl_prediction_log_queue_records').set(this.queue.length);
    this.flushTimer ??= this.options.clock.setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.options.config.flushIntervalMs);
  }

  /** Writes every queued record; resolves when they are stored (or counted as failed). */
  async flush(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.options.metrics?.gauge('sibyl_prediction_log_queue_records').set(0);
    this.flushing = this.writeBatch(batch).finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  /** Stored records of a model (queued ones are written first, so a query sees every answer so far). */
  async query(query: PredictionQuery): Promise<PredictionRecord[]> {
    await this.flush();
    return (await this.openSink()).query(query);
  }

  /** Deletes records past their model's retention. Runs at start and hourly once a sink is open. */
  async sweep(): Promise<number> {
    const sink = await this.openSink();
    let deleted = 0;
    for (const { model, days } of this.options.retention()) {
      if (days > 0) deleted += await sink.deleteBefore(model, this.options.clock.epochMs() - days * 86_400_000);
    }
    if (deleted > 0) this.options.log.info({ deleted, sink: sink.name }, `prediction log: deleted ${deleted} records past their retention`);
    return deleted;
  }

  /** Writes what is queued, then closes the sink. Records arriving later are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flushTimer?.();
    this.sweepTimer?.();
    await this.flush();
    if (this.sink !== undefined) await (await this.sink.catch(() => undefined))?.close();
  }

  private redactorOf(served: ServedVersion): Redactor | null {
    let redactor = this.redactors.get(served);
    if (redactor === undefined) {
      const config = served.config?.predictionLog;
      redactor = config === undefined || config.sampleRate <= 0 ? null : new Redactor(config, this.hashKey);
      this.redactors.set(served, redactor);
      if (redactor !== null && this.ephemeralKey && Object.values(config!.fields).includes('hash')) {
        this.options.log.warn({ model: served.name }, 'prediction log: predictionLog.hashKey is not set; hash rules use a random key made at start, so hashes differ between runs');
      }
    }
    return redactor;
  }

  private openSink(): Promise<PredictionSink> {
    if (this.sink === undefined) {
      this.sink = this.options.openSink();
      this.sink.then(
        (sink) => {
          this.options.log.info({ sink: sink.name }, `prediction log: writing to ${sink.name}`);
          const sweep = (): void => {
            this.sweep().catch((err: unknown) => this.options.log.warn({ err }, 'prediction log: retention sweep failed'));
            this.sweepTimer = this.options.clock.setTimeout(sweep, RETENTION_SWEEP_MS);
          };
          if (!this.closed) sweep();
        },
        (err: unknown) => {
          this.options.log.error({ err }, `prediction log: cannot open the ${this.options.config.sink} sink: ${(err as Error).message}`);
          // Open again for the next batch: a database that is down at start must not disable
          // the log until a restart.
          this.sink = undefined;
        },
      );
    }
    return this.sink;
  }

  private async writeBatch(batch: PredictionRecord[]): Promise<void> {
    let cancelTimeout: CancelTimer | undefined;
    try {
      // A sink that stops answering (a database behind a partition) fails the batch after
      // writeTimeoutMs instead of stalling every later flush; the write may still land later.
      const limitMs = this.options.config.writeTimeoutMs ?? PREDICTION_LOG_WRITE_TIMEOUT_MS;
      if (this.abandonedWrite !== undefined) throw new Error(`the ${this.options.config.sink} sink has not yet answered a write that timed out (after ${limitMs} ms)`);
      const write = this.openSink().then((sink) => sink.write(batch));
      const timedOut = new Promise<never>((_, reject) => {
        cancelTimeout = this.options.clock.setTimeout(() => {
          this.abandonedWrite = write;
          const settled = (): void => {
            if (this.abandonedWrite === write) this.abandonedWrite = undefined;
          };
          write.then(settled, settled);
          reject(new Error(`the ${this.options.config.sink} sink did not answer within ${limitMs} ms`));
        }, limitMs);
      });
      await Promise.race([write, timedOut]);
      this.countBatch(batch, 'written');
      this.options.health?.succeeded('prediction_log');
    } catch (err) {
      this.countBatch(batch, 'failed');
      this.options.health?.failed('prediction_log', `${batch.length} records could not be written: ${(err as Error).message}`);
      const now = this.options.clock.now();
      if (now - this.lastFailureLogMs > 10_000) {
        this.lastFailureLogMs = now;
        this.options.log.warn({ err, records: batch.length }, `prediction log: ${batch.length} records could not be written: ${(err as Error).message}`);
      }
    } finally {
      cancelTimeout?.();
    }
  }

  private countBatch(batch: readonly PredictionRecord[], outcome: 'written' | 'failed'): void {
    const perModel = new Map<string, number>();
    for (const r of batch) perModel.set(r.model, (perModel.get(r.model) ?? 0) + 1);
    for (const [model, n] of perModel) this.count(model, outcome, n);
  }

  private count(model: string, outcome: 'written' | 'dropped' | 'failed', n: number): void {
    this.options.metrics?.counter('sibyl_prediction_log_records_total').labels(model, outcome).inc(n);
  }
}
