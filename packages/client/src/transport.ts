// What the client asks of a transport (REST or gRPC): one attempt of one call. Deadlines,
// retries and fallbacks are the client's (client.ts), the same for every transport.
import type { InferRequest, InferResponse, ModelMetadata, RepositoryIndexEntry, ServerMetadata } from '@sibyl/protocol';
import type { Transport as TransportName } from './errors.ts';

/** One attempt: aborted when the call's deadline passes or the caller cancels. */
export interface CallContext {
  signal: AbortSignal;
  /** Epoch ms after which the call has failed; undefined: no deadline. */
  deadlineMs: number | undefined;
}

/** Per-call transport options for inference. */
export interface InferWire {
  /** REST: send inputs with the binary tensor data extension and ask for binary outputs. Ignored by gRPC (always raw). */
  binary: boolean;
}

/**
 * One transport. Every method throws ClientError: the server's answer (code, reason, status,
 * retryAfterMs) or UNAVAILABLE when the server could not be reached, DEADLINE_EXCEEDED /
 * CANCELLED when the context's signal fired. Versions may be a number or a label ('' or
 * undefined: the server's choice).
 */
export interface InferenceTransport {
  readonly kind: TransportName;
  /** Where it sends calls, for messages. */
  readonly target: string;
  serverLive(ctx: CallContext): Promise<boolean>;
  serverReady(ctx: CallContext): Promise<boolean>;
  serverMetadata(ctx: CallContext): Promise<ServerMetadata>;
  modelReady(model: string, version: string | undefined, ctx: CallContext): Promise<boolean>;
  modelMetadata(model: string, version: string | undefined, ctx: CallContext): Promise<ModelMetadata>;
  /** Triton's model configuration (JSON form: `max_batch_size`, `input`, `output`, …). */
  modelConfig(model: string, version: string | undefined, ctx: CallContext): Promise<Record<string, unknown>>;
  /** Triton's statistics: every ready version when `model` is undefined. */
  modelStatistics(model: string | undefined, version: string | undefined, ctx: CallContext): Promise<Record<string, unknown>[]>;
  repositoryIndex(readyOnly: boolean, ctx: CallContext): Promise<RepositoryIndexEntry[]>;
  loadModel(model: string, config: unknown, ctx: CallContext): Promise<void>;
  unloadModel(model: string, ctx: CallContext): Promise<void>;
  infer(model: string, version: string | undefined, request: InferRequest, wire: InferWire, ctx: CallContext): Promise<InferResponse>;
  /** Releases connections; calls after close fail. */
  close(): void;
}
