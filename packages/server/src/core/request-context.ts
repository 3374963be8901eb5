// What travels with one request from the frontend that received it to every endpoint, cascade
// stage, fallback, shadow copy, metric, prediction-log record and trace span it causes. Each
// entry (HTTP V2, TF Serving, gRPC, batch jobs, embedding, and later streams) builds exactly one
// per request, and nothing below the entry builds another: derived calls (a shadow, a fallback,
// a cascade stage) carry the same request id and trace.
import type { Cancellation } from './cancellation.ts';

/** The entry a request came through (metrics and logs may label by it). */
export type EntryKind = 'http' | 'tfserving' | 'grpc' | 'batch' | 'embedded' | 'stream';

/** Who calls, once authentication exists (the security issue): an API key's name, a JWT subject, a certificate's subject. */
export interface Principal {
  readonly id: string;
  /** What it may do: `infer:<model>`, `read`, `admin`, … */
  readonly scopes: readonly string[];
}

export interface RequestContext {
  /** The request's id in logs, the prediction log and traces: the caller's (`x-request-id`, the V2 `id`) or generated. */
  readonly requestId: string;
  /**
   * Clock time (ms, the core's injected Clock) the entry received the request: its first byte
   * for HTTP, the call's start for gRPC, the row's read for a batch job. Every latency the core
   * reports is counted from here, so the same metric means the same thing for every entry.
   */
  readonly arrivalMs: number;
  /** Clock time (ms) after which the answer is useless; undefined: the server's default timeout applies. */
  readonly deadlineMs?: number;
  /** Cancellation by the caller (a closed connection, a cancelled call, a stopped job). */
  readonly signal?: Cancellation;
  /** The entry's trace span (OpenTelemetry), parent of every span the request causes. */
  readonly trace?: unknown;
  /** The authenticated caller; undefined until authentication exists or when it is off. */
  readonly principal?: Principal;
  readonly entry: EntryKind;
  /** A request header (HTTP) or metadata value (gRPC) by lower-case name: sticky routing keys, feedback ids. */
  readonly header?: (name: string) => string | undefined;
}
