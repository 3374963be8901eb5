// Builds the parts of observability the configuration switches on, and the one observer that
// feeds them. Called by the composition root (server.ts).
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { ComponentHealth } from '../core/component-health.ts';
import type { Random } from '../core/random.ts';
import type { ServerConfig } from '../config/server-config.ts';
import type { ModelManager } from '../models/model-manager.ts';
import type { Endpoint } from '../routing/endpoint.ts';
import { DriftMonitor } from './drift/drift-monitor.ts';
import { SibylMetrics } from './metrics/metrics.ts';
import { PredictionLogger } from './prediction-log/prediction-logger.ts';
import type { PredictionSink } from './prediction-log/record.ts';
import { openPredictionSink } from './prediction-log/sinks/open-sink.ts';
import { RequestObserver, type ObservabilityParts } from './request-observer.ts';
import { Tracing, tracingRequested, type TracingOptions } from './tracing/tracing.ts';

export interface ObservabilityOptions {
  config: ServerConfig;
  log: Logger;
  clock: Clock;
  models: ModelManager;
  inFlight: () => number;
  /** The server's endpoints (for their metrics), read at every scrape. */
  endpoints?: () => readonly Endpoint[];
  serverVersion: string;
  env: NodeJS.ProcessEnv;
  /** Where the prediction log reports its sink's health (and the metrics read it). */
  health?: ComponentHealth;
  /** Sampling of the prediction log; default Math.random. */
  random?: Random;
  /** Replaces the configured sink (tests). */
  openSink?: () => Promise<PredictionSink>;
  /** Replaces the OTLP exporter (tests); tracing is then on whatever the environment says. */
  tracing?: Pick<TracingOptions, 'exporter' | 'processor'>;
}

export interface Observability extends ObservabilityParts {
  /**
   * The observer the inference service and schedulers call. A part that is off costs nothing in
   * it; the prediction log and drift, on per model, cost a WeakMap look-up each for the others.
   */
  observer: RequestObserver;
  /** Flushes the prediction log and the trace exporter. */
  close(): Promise<void>;
}

/**
 * Metrics are on unless metrics.enabled is false. The prediction log and drift are on for the
 * models whose config.yaml asks (each costs nothing for the others). Tracing is on when the
 * OTEL_* variables ask for it.
 */
export function createObservability(options: ObservabilityOptions): Observability {
  const { config, log, clock } = options;
  const metrics = config.metrics.enabled
    ? new SibylMetrics({
        models: () => options.models.list(),
        served: () => options.models.servedVersions(),
        inFlight: options.inFlight,
        endpoints: options.endpoints,
        serverVersion: options.serverVersion,
        health: options.health,
      })
    : undefined;
  const predictions = new PredictionLogger({
    config: config.predictionLog,
    openSink: options.openSink ?? (() => openPredictionSink(config.predictionLog)),
    clock,
    random: options.random,
    log: log.child({ component: 'prediction-log' }),
    metrics,
    health: options.health,
    retention: () =>
      options.models.list().flatMap((m) => {
        const days = m.served?.config?.predictionLog.retentionDays ?? config.predictionLog.retentionDays;
        return [{ model: m.name, days }];
      }),
  });
  const drift = new DriftMonitor({ log: log.child({ component: 'drift' }), metrics });
  const tracing =
    options.tracing !== undefined || tracingRequested(options.env) ? new Tracing({ serviceVersion: options.serverVersion, log, env: options.env, ...options.tracing }) : undefined;
  const parts: ObservabilityParts = { metrics, predictions, drift, tracing };
  return {
    ...parts,
    observer: new RequestObserver(parts),
    async close() {
      await Promise.allSettled([predictions.close(), tracing?.close()]);
    },
  };
}
