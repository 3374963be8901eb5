// OpenTelemetry tracing: a span per inference request (the frontend's), a queue span per request
// and one execution span per batch (linked to every request it served), exported over OTLP.
// Off unless the standard OTEL_* variables ask for it; when off, nothing is constructed, no hook
// is installed and requests carry no span. Spans of the scheduler are made after the fact from
// its clock times (performance.now(), which OpenTelemetry reads as such), so the scheduler keeps
// no tracing state.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, trace, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { grpcStatusOf, isServerFault, type SibylError } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { ExecutedBatch, SchedulerObserver } from '../../scheduling/scheduler-observer.ts';

const propagator = new W3CTraceContextPropagator();

/**
 * Whether the environment asks for traces: OTEL_TRACES_EXPORTER names otlp, or an OTLP endpoint
 * is set (OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); never with
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((e) => e.trim().toLowerCase());
  if (exporters.includes('none')) return false;
  return exporters.includes('otlp') || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT) || Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The sampler OTEL_TRACES_SAMPLER (and _ARG) name; default parentbased_always_on. */
export function samplerFromEnvironment(env: NodeJS.ProcessEnv): Sampler {
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  const ratioSampler = () => new TraceIdRatioBasedSampler(Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1);
  switch ((env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase()) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratioSampler();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratioSampler() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The OTEL_BSP_* settings of the batch span processor (absent or invalid ones: its defaults). */
function batchOptionsFromEnvironment(env: NodeJS.ProcessEnv): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [variable, option] of [
    ['OTEL_BSP_SCHEDULE_DELAY', 'scheduledDelayMillis'],
    ['OTEL_BSP_EXPORT_TIMEOUT', 'exportTimeoutMillis'],
    ['OTEL_BSP_MAX_QUEUE_SIZE', 'maxQueueSize'],
    ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'maxExportBatchSize'],
  ] as const) {
    const value = Number(env[variable]);
    if (env[variable] !== undefined && Number.isInteger(value) && value > 0) out[option] = value;
  }
  return out;
}

export interface TracingOptions {
  serviceVersion: string;
  log: Logger;
  env: NodeJS.ProcessEnv;
  /** Where spans go; default the OTLP/HTTP protobuf exporter configured by OTEL_EXPORTER_OTLP_*. */
  exporter?: SpanExporter;
  /** Default a BatchSpanProcessor over the exporter. Tests pass a SimpleSpanProcessor. */
  processor?: (exporter: SpanExporter) => SpanProcessor;
}

export class Tracing {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;

  constructor(options: TracingOptions) {
    const protocol = options.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? options.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    if (options.exporter === undefined && protocol !== undefined && protocol !== 'http/protobuf') {
      options.log.warn(`tracing: OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported; exporting with http/protobuf`);
    }
    const exporter = options.exporter ?? new OTLPTraceExporter();
    const resource = defaultResource().merge(resourceFromAttributes({ 'service.name': options.env.OTEL_SERVICE_NAME ?? 'sibyl', 'service.version': options.serviceVersion }));
    this.provider = new TracerProvider({
      resource,
      sampler: samplerFromEnvironment(options.env),
      spanProcessors: [(options.processor ?? ((e) => new BatchSpanProcessor({ exporter: e, ...batchOptionsFromEnvironment(options.env) })))(exporter)],
    });
    this.tracer = this.provider.getTracer('sibyl', options.serviceVersion);
  }

  /** The frontend's span of one request, continuing the caller's trace (W3C traceparent). */
  startRequestSpan(name: string, headers: Record<string, string | string[] | undefined>, attributes: Record<string, string>): Span {
    const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    return this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  }

  /** Ends a request span with the HTTP status (5xx marks it as an error). */
  endRequestSpan(span: Span, statusCode: number, errorReason?: string): void {
    span.setAttribute('http.response.status_code', statusCode);
    if (errorReason !== undefined) span.setAttribute('sibyl.error.reason', errorReason);
    if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  /** Ends a gRPC call's request span: an error the server is at fault for marks it as an error. */
  endCallSpan(span: Span, error: SibylError | undefined): void {
    span.setAttribute('rpc.grpc.status_code', error === undefined ? 0 : grpcStatusOf(error.code));
    if (error !== undefined) {
      span.setAttribute('sibyl.error.reason', error.reason);
      if (isServerFault(error)) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  /** Queue and execution spans of one version's scheduler. */
  schedulerObserver(model: string, version: number): SchedulerObserver {
    const attributes = { 'sibyl.model': model, 'sibyl.version': String(version) };
    return {
      executed: (batch: ExecutedBatch) => {
        let parent: Span | undefined;
        const links: Link[] = [];
        for (const member of batch.members) {
          const span = member.trace as Span | undefined;
          if (span === undefined || !span.isRecording()) continue;
          parent ??= span;
          links.push({ context: span.spanContext() });
          if (batch.isolation !== undefined) continue; // its queue span came with its first execution
          const context = trace.setSpan(ROOT_CONTEXT, span);
          this.tracer.startSpan('sibyl.queue', { startTime: member.enqueuedAtMs, attributes: { ...attributes, 'sibyl.rows': member.rows } }, context).end(batch.startMs);
        }
        if (parent === undefined) return;
        const execution = this.tracer.startSpan(
          'sibyl.batch',
          {
            startTime: batch.startMs,
            links,
            attributes: {
              ...attributes,
              'sibyl.batch.rows': batch.rows,
              'sibyl.batch.requests': batch.members.length,
              ...(batch.isolation === undefined ? {} : { 'sibyl.batch.isolation': batch.isolation }),
            },
          },
          trace.setSpan(ROOT_CONTEXT, parent),
        );
        if (batch.failed) execution.setStatus({ code: SpanStatusCode.ERROR });
        execution.end(batch.endMs);
      },
    };
  }

  /** Exports what is buffered and stops. */
  async close(): Promise<void> {
    await this.provider.shutdown();
  }
}
