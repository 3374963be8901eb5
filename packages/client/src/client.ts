// The Sibyl client: typed calls to any Open Inference Protocol server over a transport (REST
// here, gRPC from '@sibyl/client/grpc'), with per-call deadlines, retries with backoff and
// jitter on what the error table of @sibyl/protocol calls retriable (honouring Retry-After), and an optional
// fallback value for inference when the server cannot answer.
import { elementSize, type InferRequest, type InferResponse, type ModelMetadata, type RepositoryIndexEntry, type ServerMetadata, type Tensor } from '@sibyl/protocol';
import { CallLoop, type CallLoopOptions, type CallOptions } from './call-loop.ts';
import { answersWithFallback, type ClientError } from './errors.ts';
import { RestTransport, type RestTransportOptions } from './rest/rest-transport.ts';
import type { CallContext, InferenceTransport } from './transport.ts';

export interface ClientOptions extends CallLoopOptions {
  /** REST only: inputs of at least this many bytes in all go as binary tensors (binary outputs too). Default: 1024. */
  binaryThresholdBytes?: number;
}

export type { CallOptions };

export interface ModelCallOptions extends CallOptions {
  /** A version number or label; absent: the server's choice. */
  version?: string;
}

export interface InferOptions extends ModelCallOptions {
  /**
   * What to answer when the server cannot (after retries: the error table's server faults —
   * UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, and a model that failed
   * to load). Never used for errors of the request itself (a bad input, a body too large, an
   * unknown model) or when the caller cancels. A function gets the error.
   */
  fallback?: InferResponse | ((error: ClientError) => InferResponse | Promise<InferResponse>);
  /** REST: true/false forces the binary tensor extension on or off; absent: by binaryThresholdBytes. */
  binary?: boolean;
}

/** Bytes a request's inputs take as raw tensor data (BYTES: their lengths plus 4-byte prefixes). */
export function inputBytes(inputs: readonly Tensor[]): number {
  let total = 0;
  for (const t of inputs) {
    const size = elementSize(t.datatype);
    if (size !== undefined) total += t.data.length * size;
    else for (const e of t.data as Uint8Array[]) total += 4 + e.length;
  }
  return total;
}

export class SibylClient {
  private readonly loop: CallLoop;
  private readonly binaryThresholdBytes: number;

  constructor(
    readonly transport: InferenceTransport,
    options: ClientOptions = {},
  ) {
    this.loop = new CallLoop(transport.kind, transport.target, options);
    this.binaryThresholdBytes = options.binaryThresholdBytes ?? 1024;
  }

  /** A client of the server at `url` (e.g. http://127.0.0.1:8000) over REST, in Node or a browser. */
  static rest(url: string, options: ClientOptions & RestTransportOptions = {}): SibylClient {
    return new SibylClient(new RestTransport(url, options), options);
  }

  private run<T>(options: CallOptions | undefined, call: (ctx: CallContext) => Promise<T>): Promise<T> {
    return this.loop.run(options, call);
  }

  /** Whether the server is live (REST: status 200; gRPC: ServerLive). */
  serverLive(options?: CallOptions): Promise<boolean> {
    return this.run(options, (ctx) => this.transport.serverLive(ctx));
  }

  /** Whether the server is ready to serve (its models are loaded and it is not draining). */
  serverReady(options?: CallOptions): Promise<boolean> {
    return this.run(options, (ctx) => this.transport.serverReady(ctx));
  }

  serverMetadata(options?: CallOptions): Promise<ServerMetadata> {
    return this.run(options, (ctx) => this.transport.serverMetadata(ctx));
  }

  /** Whether a model (version or label) would answer; false for an unknown or unready one. */
  modelReady(model: string, options?: ModelCallOptions): Promise<boolean> {
    return this.run(options, (ctx) => this.transport.modelReady(model, options?.version, ctx));
  }

  modelMetadata(model: string, options?: ModelCallOptions): Promise<ModelMetadata> {
    return this.run(options, (ctx) => this.transport.modelMetadata(model, options?.version, ctx));
  }

  /** Triton's model configuration (`max_batch_size`, `input`, `output`, `instance_group`, …). */
  modelConfig(model: string, options?: ModelCallOptions): Promise<Record<string, unknown>> {
    return this.run(options, (ctx) => this.transport.modelConfig(model, options?.version, ctx));
  }

  /** Triton's statistics of a model (version), or of every ready version when `model` is undefined. */
  modelStatistics(model?: string, options?: ModelCallOptions): Promise<Record<string, unknown>[]> {
    return this.run(options, (ctx) => this.transport.modelStatistics(model, options?.version, ctx));
  }

  /** Every model version in the repository with its state and reason. */
  repositoryIndex(options?: CallOptions & { readyOnly?: boolean }): Promise<RepositoryIndexEntry[]> {
    return this.run(options, (ctx) => this.transport.repositoryIndex(options?.readyOnly === true, ctx));
  }

  /** Loads a model (explicit model control), optionally with a model config replacing config.yaml. */
  loadModel(model: string, options?: CallOptions & { config?: unknown }): Promise<void> {
    return this.run(options, (ctx) => this.transport.loadModel(model, options?.config, ctx));
  }

  unloadModel(model: string, options?: CallOptions): Promise<void> {
    return this.run(options, (ctx) => this.transport.unloadModel(model, ctx));
  }

  /**
   * Runs an inference. Tensors are typed arrays both ways (BYTES: arrays of Uint8Array); the
   * request is not modified. Retried on what the error table calls retriable (UNAVAILABLE and
   * RESOURCE_EXHAUSTED but a request too large), which mean the server did not run it (or lost
   * the connection: models must be safe to call twice).
   * @throws ClientError, unless a fallback answers.
   */
  async infer(model: string, request: InferRequest, options?: InferOptions): Promise<InferResponse> {
    const binary = options?.binary ?? inputBytes(request.inputs) >= this.binaryThresholdBytes;
    try {
      return await this.run(options, (ctx) => this.transport.infer(model, options?.version, request, { binary }, ctx));
    } catch (err) {
      const error = err as ClientError;
      const fallback = options?.fallback;
      if (fallback === undefined || !answersWithFallback(error)) throw error;
      return typeof fallback === 'function' ? fallback(error) : fallback;
    }
  }

  /** Releases the transport's connections. */
  close(): void {
    this.transport.close();
  }
}
