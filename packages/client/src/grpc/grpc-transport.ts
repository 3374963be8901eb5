// The Open Inference Protocol over gRPC (Node), with grpc-js and the protocol's .proto files:
// inputs always travel as raw contents (the fast path); outputs are read raw or typed. 64-bit
// integers other than tensor data (shapes, statistics, dims) come back as numbers, as over REST.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import {
  ERROR_CODES,
  GRPC_ERROR_METADATA,
  GRPC_LOADER_OPTIONS,
  GRPC_STATUS,
  decodeGrpcInferResponse,
  encodeGrpcInferRequest,
  type ErrorCode,
  type GrpcModelInferResponse,
  type InferRequest,
  type InferResponse,
  type ModelMetadata,
  type RepositoryIndexEntry,
  type ServerMetadata,
} from '@sibyl/protocol';
import { ClientError, asClientError } from '../errors.ts';
import { parseRetryAfter } from '../retry.ts';
import type { CallContext, InferenceTransport } from '../transport.ts';

export interface GrpcTransportOptions {
  /** Default: insecure (plain TCP). */
  credentials?: grpc.ChannelCredentials;
  /** Largest message sent or received, in bytes. Default: 67108864 (64 MiB). */
  maxMessageBytes?: number;
  /** Metadata sent with every call (authentication, tracing). */
  metadata?: Record<string, string>;
}

type Message = Record<string, unknown>;
type UnaryMethod = (request: Message, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response: Message) => void) => grpc.ClientUnaryCall;

const CODE_OF_STATUS = new Map<number, ErrorCode>(ERROR_CODES.map((c) => [GRPC_STATUS[c], c]));

function serviceConstructor(): grpc.ServiceClientConstructor {
  const protoDir = dirname(fileURLToPath(import.meta.resolve('@sibyl/protocol/proto/grpc_service.proto')));
  const definition = grpc.loadPackageDefinition(loadSync('grpc_service.proto', { ...GRPC_LOADER_OPTIONS, includeDirs: [protoDir] }));
  return (definition.inference as grpc.GrpcObject).GRPCInferenceService as grpc.ServiceClientConstructor;
}

/** A gRPC error → ClientError: the status's code, Sibyl's reason and Retry-After from the trailers. */
function errorOf(err: grpc.ServiceError, method: string, target: string): ClientError {
  const code = CODE_OF_STATUS.get(err.code) ?? 'UNKNOWN';
  const reason = err.metadata?.get(GRPC_ERROR_METADATA.reason)[0];
  const retryAfter = err.metadata?.get(GRPC_ERROR_METADATA.retryAfter)[0];
  const fromServer = reason !== undefined;
  const message = fromServer || err.code !== grpc.status.UNAVAILABLE ? err.details : `could not reach ${target} (${method}): ${err.details}`;
  return new ClientError(code, typeof reason === 'string' ? reason : undefined, message, {
    status: err.code,
    retryAfterMs: parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined, Date.now()),
    transport: 'grpc',
    cause: err,
  });
}

const toNumber = (v: unknown): number => Number(v);

/** Converts the named 64-bit fields (decimal strings) anywhere in `value` to numbers. */
function numbersIn<T>(value: T, keys: ReadonlySet<string>): T {
  if (Array.isArray(value)) return value.map((v: unknown) => numbersIn(v, keys)) as T;
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  const out: Message = {};
  for (const [k, v] of Object.entries(value as Message)) {
    out[k] = keys.has(k) ? (Array.isArray(v) ? v.map(toNumber) : toNumber(v)) : numbersIn(v, keys);
  }
  return out as T;
}

const METADATA_NUMBERS = new Set(['shape']);
const CONFIG_NUMBERS = new Set(['dims', 'max_queue_delay_microseconds', 'num_versions', 'versions']);
const STATISTICS_NUMBERS = new Set(['last_inference', 'inference_count', 'execution_count', 'count', 'ns', 'batch_size']);

export class GrpcTransport implements InferenceTransport {
  readonly kind = 'grpc' as const;
  private readonly client: grpc.Client;

  /** `target`: host:port of the server's gRPC endpoint, e.g. 127.0.0.1:8001. */
  constructor(
    readonly target: string,
    private readonly options: GrpcTransportOptions = {},
  ) {
    const Service = serviceConstructor();
    const max = options.maxMessageBytes ?? 64 * 1024 * 1024;
    this.client = new Service(target, options.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': max,
    });
  }

  private call(method: string, request: Message, ctx: CallContext): Promise<Message> {
    return new Promise((resolve, reject) => {
      if (ctx.signal.aborted) return reject(ctx.signal.reason as Error);
      const metadata = new grpc.Metadata();
      for (const [k, v] of Object.entries(this.options.metadata ?? {})) metadata.set(k, v);
      const callOptions: grpc.CallOptions = ctx.deadlineMs === undefined ? {} : { deadline: ctx.deadlineMs };
      const fn = (this.client as unknown as Record<string, UnaryMethod>)[method]!.bind(this.client);
      const onAbort = (): void => call.cancel();
      const call = fn(request, metadata, callOptions, (err, response) => {
        ctx.signal.removeEventListener('abort', onAbort);
        if (err === null) return resolve(response);
        // A cancel or deadline of our own is the context's error, not the transport's.
        if (ctx.signal.aborted) return reject(ctx.signal.reason as Error);
        if (err.code === grpc.status.DEADLINE_EXCEEDED && err.metadata?.get(GRPC_ERROR_METADATA.reason).length === 0) {
          return reject(new ClientError('DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', `no answer from ${this.target} within the call's deadline`, { status: err.code, transport: 'grpc', cause: err }));
        }
        reject(errorOf(err, method, this.target));
      });
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async serverLive(ctx: CallContext): Promise<boolean> {
    return (await this.call('ServerLive', {}, ctx)).live === true;
  }

  async serverReady(ctx: CallContext): Promise<boolean> {
    return (await this.call('ServerReady', {}, ctx)).ready === true;
  }

  async serverMetadata(ctx: CallContext): Promise<ServerMetadata> {
    const m = await this.call('ServerMetadata', {}, ctx);
    return { name: String(m.name ?? ''), version: String(m.version ?? ''), extensions: (m.extensions as string[] | undefined) ?? [] };
  }

  async modelReady(model: string, version: string | undefined, ctx: CallContext): Promise<boolean> {
    return (await this.call('ModelReady', { name: model, version: version ?? '' }, ctx)).ready === true;
  }

  async modelMetadata(model: string, version: string | undefined, ctx: CallContext): Promise<ModelMetadata> {
    const m = numbersIn(await this.call('ModelMetadata', { name: model, version: version ?? '' }, ctx), METADATA_NUMBERS);
    const tensors = (list: unknown) => ((list as Message[] | undefined) ?? []).map((t) => ({ name: t.name, datatype: t.datatype, shape: (t.shape as number[] | undefined) ?? [] }));
    return { name: String(m.name), versions: (m.versions as string[] | undefined) ?? [], platform: String(m.platform ?? ''), inputs: tensors(m.inputs), outputs: tensors(m.outputs) } as ModelMetadata;
  }

  async modelConfig(model: string, version: string | undefined, ctx: CallContext): Promise<Record<string, unknown>> {
    const { config } = await this.call('ModelConfig', { name: model, version: version ?? '' }, ctx);
    return numbersIn((config as Message | undefined) ?? {}, CONFIG_NUMBERS);
  }

  async modelStatistics(model: string | undefined, version: string | undefined, ctx: CallContext): Promise<Record<string, unknown>[]> {
    const { model_stats } = await this.call('ModelStatistics', { name: model ?? '', version: version ?? '' }, ctx);
    return numbersIn((model_stats as Message[] | undefined) ?? [], STATISTICS_NUMBERS);
  }

  async repositoryIndex(readyOnly: boolean, ctx: CallContext): Promise<RepositoryIndexEntry[]> {
    const { models } = await this.call('RepositoryIndex', { ready: readyOnly }, ctx);
    return ((models as Message[] | undefined) ?? []).map((m) => {
      const entry: RepositoryIndexEntry = { name: String(m.name), state: String(m.state ?? ''), reason: String(m.reason ?? '') };
      if (typeof m.version === 'string' && m.version !== '') entry.version = m.version;
      return entry;
    });
  }

  async loadModel(model: string, config: unknown, ctx: CallContext): Promise<void> {
    const parameters = config === undefined ? {} : { config: { string_param: JSON.stringify(config) } };
    await this.call('RepositoryModelLoad', { model_name: model, parameters }, ctx);
  }

  async unloadModel(model: string, ctx: CallContext): Promise<void> {
    await this.call('RepositoryModelUnload', { model_name: model }, ctx);
  }

  async infer(model: string, version: string | undefined, request: InferRequest, _wire: unknown, ctx: CallContext): Promise<InferResponse> {
    let message;
    try {
      message = encodeGrpcInferRequest(model, version, request, { raw: true });
    } catch (err) {
      throw asClientError(err, 'grpc');
    }
    const response = await this.call('ModelInfer', message as Message, ctx);
    try {
      return decodeGrpcInferResponse(response as GrpcModelInferResponse);
    } catch (err) {
      throw asClientError(err, 'grpc');
    }
  }

  close(): void {
    this.client.close();
  }
}
