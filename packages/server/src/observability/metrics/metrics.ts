// The Prometheus exporter: a prom-client registry holding exactly the metrics of the catalogue,
// plus prom-client's process metrics. Hot-path metrics (requests, latencies, batch sizes) are
// plain accumulators per version (VersionMetrics) turned into samples at scrape time; model
// state, instances and queue depth are read from the model manager at scrape time; the rare
// events (prediction log, drift) use prom-client counters and gauges directly.
import { REASONS } from '@sibyl/protocol';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { ModelStatus } from '../../models/model-manager.ts';
import { MODEL_STATES } from '../../models/model-state.ts';
import type { ServedVersion } from '../../models/served-version.ts';
import type { EndpointSnapshot } from '../../routing/endpoint.ts';
import type { InferOutcome } from '../../routing/inference-observer.ts';
import type { BucketHistogram } from '../../core/bucket-histogram.ts';
import { COMPONENTS, type ComponentHealth } from '../../core/component-health.ts';
import { METRICS, metricDefinition, type MetricDefinition, type MetricName } from './catalogue.ts';
import { VersionMetrics } from './version-metrics.ts';

/** What the metrics read of an endpoint: its one snapshot. */
export interface EndpointSnapshotSource {
  snapshot(): EndpointSnapshot;
}

export interface MetricsSources {
  /** The manager's models (ModelManager.list), read at every scrape. */
  models: () => readonly ModelStatus[];
  /** Every READY version (ModelManager.servedVersions), read at every scrape. */
  served: () => readonly ServedVersion[];
  /** Requests in flight over all models (InferenceService.pending). */
  inFlight: () => number;
  serverVersion: string;
  /** Also export prom-client's process and Node.js metrics. Default true. */
  processMetrics?: boolean;
  /** The server's endpoints (Endpoint has snapshot()), read at every scrape. */
  endpoints?: () => readonly EndpointSnapshotSource[];
  /** The supporting components' health, read at every scrape. */
  health?: ComponentHealth;
}

/** What /metrics reads of the HTTP body budget (frontends/http/body-budget.ts) at every scrape. */
export interface BodyBudgetView {
  readonly held: number;
  readonly limitBytes: number;
  readonly refusals: Readonly<Record<'json' | 'binary', number>>;
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

type Labels = Record<string, string>;

/** A metric whose samples are computed when scraped; registered with prom-client as any other. */
function collectedMetric(definition: MetricDefinition, collect: () => Sample[]): Metric {
  const { name, help, type } = definition;
  const metric = { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: collect() }) };
  return metric as unknown as Metric;
}

function histogramSamples(name: string, labels: Labels, histogram: BucketHistogram, out: Sample[]): void {
  const cumulative = histogram.cumulative();
  histogram.bounds.forEach((bound, i) => out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bound }, value: cumulative[i]! }));
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: histogram.count });
  out.push({ metricName: `${name}_sum`, labels, value: histogram.sum });
  out.push({ metricName: `${name}_count`, labels, value: histogram.count });
}

export class SibylMetrics {
  readonly registry = new Registry();
  private readonly versions = new Map<string, VersionMetrics>();
  private readonly byServed = new WeakMap<ServedVersion, VersionMetrics>();
  private readonly direct = new Map<string, Counter | Gauge>();
  private bodyBudget: BodyBudgetView | undefined;

  constructor(private readonly sources: MetricsSources) {
    if (sources.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const perVersion = (name: MetricName, samples: (v: VersionMetrics, labels: Labels, out: Sample[]) => void): Metric =>
      collectedMetric(metricDefinition(name), () => {
        const out: Sample[] = [];
        for (const v of this.versions.values()) samples(v, { model: v.model, version: v.version }, out);
        return out;
      });
    const histogram = (name: MetricName, pick: (v: VersionMetrics) => BucketHistogram, include: (v: VersionMetrics) => boolean = () => true): Metric =>
      perVersion(name, (v, labels, out) => {
        if (include(v)) histogramSamples(name, labels, pick(v), out);
      });
    const known = (v: VersionMetrics) => v.version !== '';
    const collected: Record<string, Metric> = {
      sibyl_inference_requests_total: perVersion('sibyl_inference_requests_total', (v, labels, out) => {
        if (known(v)) out.push({ labels: { ...labels, outcome: 'success', code: 'OK', reason: '' }, value: v.succeeded });
        for (const [reason, count] of v.failed) {
          out.push({ labels: { ...labels, outcome: 'error', code: REASONS[reason].code, reason }, value: count });
        }
      }),
      sibyl_inference_request_duration_seconds: histogram('sibyl_inference_request_duration_seconds', (v) => v.requestSeconds, known),
      sibyl_inference_queue_duration_seconds: histogram('sibyl_inference_queue_duration_seconds', (v) => v.queueSeconds, known),
      sibyl_inference_compute_duration_seconds: histogram('sibyl_inference_compute_duration_seconds', (v) => v.computeSeconds, known),
      sibyl_inference_batch_size: histogram('sibyl_inference_batch_size', (v) => v.batchRows, known),
      sibyl_inference_isolation_executions_total: perVersion('sibyl_inference_isolation_executions_total', (v, labels, out) => {
        if (!known(v)) return;
        for (const [cause, value] of Object.entries(v.isolationExecutions)) out.push({ labels: { ...labels, cause }, value });
      }),
      sibyl_inference_isolation_requests_total: perVersion('sibyl_inference_isolation_requests_total', (v, labels, out) => {
        if (!known(v)) return;
        for (const [outcome, value] of Object.entries(v.isolationRequests)) out.push({ labels: { ...labels, outcome }, value });
      }),
      sibyl_inference_queue_depth: this.perServed('sibyl_inference_queue_depth', (s) => s.queueDepth),
      sibyl_model_instances: this.perServed('sibyl_model_instances', (s) => s.instanceCount),
      sibyl_model_instance_events_total: perVersion('sibyl_model_instance_events_total', (v, labels, out) => {
        for (const [event, count] of v.instanceEvents) out.push({ labels: { ...labels, event }, value: count });
      }),
      sibyl_inference_requests_in_flight: collectedMetric(metricDefinition('sibyl_inference_requests_in_flight'), () => [{ labels: {}, value: sources.inFlight() }]),
      sibyl_component_degraded: collectedMetric(metricDefinition('sibyl_component_degraded'), () =>
        COMPONENTS.map((component) => ({ labels: { component }, value: sources.health?.isDegraded(component) === true ? 1 : 0 })),
      ),
      sibyl_model_state: collectedMetric(metricDefinition('sibyl_model_state'), () =>
        sources.models().flatMap((m) =>
          m.versions.flatMap((v) => MODEL_STATES.map((state) => ({ labels: { model: m.name, version: String(v.version), state }, value: v.state === state ? 1 : 0 }))),
        ),
      ),
      sibyl_model_signature_incompatible: collectedMetric(metricDefinition('sibyl_model_signature_incompatible'), () =>
        sources.models().flatMap((m) =>
          m.versions.flatMap((v) =>
            v.state === 'READY' || v.loadsOnDemand === true ? [{ labels: { model: m.name, version: String(v.version) }, value: v.incompatibleSignature === undefined ? 0 : 1 }] : [],
          ),
        ),
      ),
      sibyl_model_load_duration_seconds: collectedMetric(metricDefinition('sibyl_model_load_duration_seconds'), () =>
        sources.models().flatMap((m) => m.versions.flatMap((v) => (v.loadMs === undefined ? [] : [{ labels: { model: m.name, version: String(v.version) }, value: v.loadMs / 1000 }]))),
      ),
      sibyl_http_body_budget_held_bytes: collectedMetric(metricDefinition('sibyl_http_body_budget_held_bytes'), () => [{ labels: {}, value: this.bodyBudget?.held ?? 0 }]),
      sibyl_http_body_budget_limit_bytes: collectedMetric(metricDefinition('sibyl_http_body_budget_limit_bytes'), () =>
        this.bodyBudget === undefined ? [] : [{ labels: {}, value: this.bodyBudget.limitBytes }],
      ),
      sibyl_http_body_budget_refusals_total: collectedMetric(metricDefinition('sibyl_http_body_budget_refusals_total'), () =>
        (['json', 'binary'] as const).map((kind) => ({ labels: { kind }, value: this.bodyBudget?.refusals[kind] ?? 0 })),
      ),
      sibyl_build_info: collectedMetric(metricDefinition('sibyl_build_info'), () => [{ labels: { version: sources.serverVersion, node: process.version }, value: 1 }]),
      sibyl_response_cache_lookups_total: collectedMetric(metricDefinition('sibyl_response_cache_lookups_total'), () =>
        sources.served().flatMap((s) =>
          s.cache === undefined
            ? []
            : [
                { labels: { model: s.name, version: String(s.version), result: 'hit' }, value: s.statistics.cacheHit.count },
                { labels: { model: s.name, version: String(s.version), result: 'miss' }, value: s.statistics.cacheMiss.count },
              ],
        ),
      ),
      ...endpointMetrics(sources.endpoints ?? (() => [])),
    };
    for (const definition of METRICS) {
      const metric = collected[definition.name];
      if (metric !== undefined) this.registry.registerMetric(metric);
      else if (definition.type === 'counter') this.direct.set(definition.name, new Counter({ name: definition.name, help: definition.help, labelNames: [...definition.labels], registers: [this.registry] }));
      else if (definition.type === 'gauge') this.direct.set(definition.name, new Gauge({ name: definition.name, help: definition.help, labelNames: [...definition.labels], registers: [this.registry] }));
      else throw new Error(`metric ${definition.name}: histograms must be collected from accumulators`);
    }
  }

  /** A prom-client counter of the catalogue, for events off the hot path (prediction log, drift). */
  counter(name: MetricName): Counter {
    const metric = this.direct.get(name);
    if (!(metric instanceof Counter)) throw new Error(`${name} is not a directly updated counter`);
    return metric;
  }

  /** A prom-client gauge of the catalogue, for values set off the hot path (drift). */
  gauge(name: MetricName): Gauge {
    const metric = this.direct.get(name);
    if (!(metric instanceof Gauge)) throw new Error(`${name} is not a directly updated gauge`);
    return metric;
  }

  /** The HTTP body budget whose held bytes, limit and refusals are exported (one per server). */
  watchBodyBudget(budget: BodyBudgetView): void {
    this.bodyBudget = budget;
  }

  /** The accumulators of one version (created on first use); they observe its scheduler too. */
  version(model: string, version: string): VersionMetrics {
    const key = `${model}\u0000${version}`;
    let metrics = this.versions.get(key);
    if (metrics === undefined) {
      metrics = new VersionMetrics(model, version);
      this.versions.set(key, metrics);
    }
    return metrics;
  }

  /** Counts one finished request (see InferenceObserver.finished). */
  observe(outcome: InferOutcome): void {
    const served = outcome.served;
    let metrics: VersionMetrics;
    if (served !== undefined) {
      metrics = this.byServed.get(served) ?? this.remember(served);
    } else {
      // Unknown model names are client input: they never become label values.
      const reason = outcome.error?.reason;
      metrics = this.version(reason === 'MODEL_NOT_FOUND' ? '' : outcome.model, '');
    }
    if (outcome.error === undefined) metrics.recordSuccess(outcome.totalMs);
    else metrics.recordFailure(outcome.error.reason);
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private remember(served: ServedVersion): VersionMetrics {
    const metrics = this.version(served.name, String(served.version));
    this.byServed.set(served, metrics);
    return metrics;
  }

  private perServed(name: MetricName, value: (served: ServedVersion) => number): Metric {
    return collectedMetric(metricDefinition(name), () => this.sources.served().map((s) => ({ labels: { model: s.name, version: String(s.version) }, value: value(s) })));
  }
}

/** The endpoint metrics, all read from each endpoint's snapshot at scrape time. */
function endpointMetrics(endpoints: () => readonly EndpointSnapshotSource[]): Record<string, Metric> {
  const each = (name: MetricName, samples: (e: EndpointSnapshot, out: Sample[]) => void): Metric =>
    collectedMetric(metricDefinition(name), () => {
      const out: Sample[] = [];
      for (const e of endpoints()) samples(e.snapshot(), out);
      return out;
    });
  return {
    sibyl_endpoint_requests_total: each('sibyl_endpoint_requests_total', (e, out) => {
      for (const { arm, stats: s } of e.arms) {
        out.push({ labels: { endpoint: e.name, arm, outcome: 'success' }, value: s.requests - s.errors - s.clientErrors });
        out.push({ labels: { endpoint: e.name, arm, outcome: 'server_error' }, value: s.errors });
        out.push({ labels: { endpoint: e.name, arm, outcome: 'client_error' }, value: s.clientErrors });
      }
    }),
    sibyl_endpoint_request_duration_seconds: each('sibyl_endpoint_request_duration_seconds', (e, out) => {
      for (const { arm, stats: s } of e.arms) histogramSamples('sibyl_endpoint_request_duration_seconds', { endpoint: e.name, arm }, s.latency, out);
    }),
    sibyl_endpoint_feedback_total: each('sibyl_endpoint_feedback_total', (e, out) => {
      for (const { arm, stats: s } of e.arms) {
        out.push({ labels: { endpoint: e.name, arm, outcome: 'success' }, value: s.successes });
        out.push({ labels: { endpoint: e.name, arm, outcome: 'failure' }, value: s.outcomes - s.successes });
      }
    }),
    sibyl_endpoint_canary_candidate_share: each('sibyl_endpoint_canary_candidate_share', (e, out) => {
      if (e.policy.kind === 'canary') out.push({ labels: { endpoint: e.name }, value: e.policy.candidateShare });
    }),
    sibyl_endpoint_canary_state: each('sibyl_endpoint_canary_state', (e, out) => {
      if (e.policy.kind !== 'canary') return;
      const { status } = e.policy.state;
      for (const state of ['running', 'paused', 'promoted', 'rolled-back']) out.push({ labels: { endpoint: e.name, state }, value: status === state ? 1 : 0 });
    }),
    sibyl_endpoint_shadow_requests_total: each('sibyl_endpoint_shadow_requests_total', (e, out) => {
      const s = e.shadow;
      if (s === undefined) return;
      for (const [outcome, value] of [['sent', s.sent], ['dropped', s.dropped], ['failed', s.failed], ['compared', s.compared]] as const) out.push({ labels: { endpoint: e.name, outcome }, value });
    }),
    sibyl_endpoint_shadow_rows_total: each('sibyl_endpoint_shadow_rows_total', (e, out) => {
      if (e.shadow === undefined) return;
      out.push({ labels: { endpoint: e.name, agreement: 'same_top_class' }, value: e.shadow.sameTopClass });
      out.push({ labels: { endpoint: e.name, agreement: 'different_top_class' }, value: e.shadow.rows - e.shadow.sameTopClass });
    }),
    sibyl_endpoint_shadow_max_abs_difference: each('sibyl_endpoint_shadow_max_abs_difference', (e, out) => {
      if (e.shadow !== undefined && e.shadow.compared > 0) out.push({ labels: { endpoint: e.name }, value: e.shadow.maxAbsDiff });
    }),
    sibyl_endpoint_cascade_rows_total: each('sibyl_endpoint_cascade_rows_total', (e, out) => {
      if (e.policy.kind !== 'cascade') return;
      e.policy.stages.forEach((s, i) => {
        out.push({ labels: { endpoint: e.name, stage: String(i + 1), outcome: 'in' }, value: s.rowsIn });
        out.push({ labels: { endpoint: e.name, stage: String(i + 1), outcome: 'answered' }, value: s.answered });
      });
    }),
    sibyl_endpoint_hybrid_answers_total: each('sibyl_endpoint_hybrid_answers_total', (e, out) => {
      if (e.policy.kind !== 'hybrid') return;
      for (const { source, reason, count } of e.policy.answers) out.push({ labels: { endpoint: e.name, source, reason }, value: count });
    }),
    sibyl_endpoint_fallbacks_total: each('sibyl_endpoint_fallbacks_total', (e, out) => {
      for (const { reason, count } of e.fallback.byReason) out.push({ labels: { endpoint: e.name, reason }, value: count });
    }),
    sibyl_endpoint_breaker_open: each('sibyl_endpoint_breaker_open', (e, out) => {
      for (const { target, mode } of e.breakers) out.push({ labels: { endpoint: e.name, target }, value: mode === 'closed' ? 0 : 1 });
    }),
  };
}

