// The Sibyl client: typed calls to any Open Inference Protocol server over a transport (REST
// here, gRPC from '@sibyl/client/grpc'), with per-call deadlines, retries with backoff and
// jitter on what the error table of @sibyl/protocol calls retriable (honouring Retry-After), and an optional
// fallback value for inference when the server cannot answer.
import { elementSize, type InferRequest, type InferResponse, type ModelMetadata, type RepositoryIndexEntry, type ServerMetadata, type Tensor } from '@sibyl/protocol';
import { ClientError, answersWithFallback, asClientError } from './errors.ts';
import { DEFAULT_RETRY, resolveRetry, retryDelayMs, type ResolvedRetry, type RetryOptions } from './retry.ts';
import { RestTransport, type RestTransportOptions } from './rest/rest-transport.ts';
import type { CallContext, InferenceTransport } from './transport.ts';

export interface ClientOptions {
  /** Deadline of every call (all its attempts together), in ms; 0 or undefined: none. Default: 30000. */
  timeoutMs?: number;
  /** Retries on UNAVAILABLE and RESOURCE_EXHAUSTED; `false`: none. Default: 3 attempts, 50 ms initial backoff. */
  retry?: RetryOptions | false;
  /** REST only: inputs of at least this many bytes in all go as binary tensors (binary outputs too). Default: 1024. */
  binaryThresholdBytes?: number;
  /** Sources of time and randomness (tests). Defaults: Date.now, setTimeout, Math.random. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface CallOptions {
  /** This call's deadline in ms (overrides the client's). */
  timeoutMs?: number;
  /** Cancels the call: it fails with CANCELLED (reason REQUEST_CANCELLED). */
  signal?: AbortSignal;
  /** This call's retries (overrides the client's). */
  retry?: RetryOptions | false;
}

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

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

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
  private readonly timeoutMs: number;
  private readonly retry: ResolvedRetry;
  private readonly binaryThresholdBytes: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(
    readonly transport: InferenceTransport,
    options: ClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    if (!(Number.isFinite(this.timeoutMs) && this.timeoutMs >= 0)) throw new TypeError(`timeoutMs is ${options.timeoutMs}; expected a number of ms ≥ 0`);
    this.retry = resolveRetry(options.retry, DEFAULT_RETRY);
    this.binaryThresholdBytes = options.binaryThresholdBytes ?? 1024;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  /** A client of the server at `url` (e.g. http://127.0.0.1:8000) over REST, in Node or a browser. */
  static rest(url: string, options: ClientOptions & RestTransportOptions = {}): SibylClient {
    return new SibylClient(new RestTransport(url, options), options);
  }

  /**
   * Runs `call` once per attempt under one deadline and the caller's signal; retries as the
   * retry options say. Every failure is a ClientError.
   */
  private async run<T>(options: CallOptions | undefined, call: (ctx: CallContext) => Promise<T>): Promise<T> {
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    const retry = options?.retry === undefined ? this.retry : resolveRetry(options.retry, this.retry);
    const deadlineMs = timeoutMs > 0 ? this.now() + timeoutMs : undefined;
    const controller = new AbortController();
    const what = this.transport.target;
    const timer =
      deadlineMs === undefined
        ? undefined
        : setTimeout(() => controller.abort(new ClientError('DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', `no answer from ${what} within the deadline of ${timeoutMs} ms`, { transport: this.transport.kind })), timeoutMs);
    const caller = options?.signal;
    const onCallerAbort = (): void => controller.abort(new ClientError('CANCELLED', 'REQUEST_CANCELLED', 'the call was cancelled by its caller', { transport: this.transport.kind, cause: caller?.reason }));
    if (caller?.aborted) onCallerAbort();
    else caller?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      for (let attempt = 1; ; attempt++) {
        if (controller.signal.aborted) throw controller.signal.reason as ClientError;
        try {
          return await call({ signal: controller.signal, deadlineMs });
        } catch (err) {
          const error = controller.signal.aborted ? (controller.signal.reason as ClientError) : asClientError(err, this.transport.kind);
          const delay = controller.signal.aborted ? undefined : retryDelayMs(retry, attempt, error, this.random(), deadlineMs === undefined ? undefined : deadlineMs - this.now());
          if (delay === undefined) throw error;
          try {
            await this.sleep(delay, controller.signal);
          } catch {
            throw controller.signal.reason as ClientError;
          }
        }
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    }
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
