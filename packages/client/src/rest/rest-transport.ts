// The Open Inference Protocol over REST with fetch (Node 18+ and browsers): JSON bodies, or
// Triton's binary tensor data extension for large inputs, with binary outputs asked back. A
// call's remaining time travels as Triton's `timeout` parameter, so the server drops a request
// whose client has given up instead of running it.
import {
  decodeInferResponse,
  decodeInferResponseBinary,
  encodeInferRequest,
  encodeInferRequestBinary,
  withTimeoutParameter,
  type InferRequest,
  type InferResponse,
  type ModelMetadata,
  type RepositoryIndexEntry,
  type ServerMetadata,
} from '@sibyl/protocol';
import { ClientError, asClientError } from '../errors.ts';
import { errorOf } from './http-error.ts';
import type { CallContext, InferenceTransport, InferWire } from '../transport.ts';

export interface RestTransportOptions {
  /** Headers sent with every request (authentication, tracing). */
  headers?: Record<string, string>;
  /** The fetch to use. Default: the global fetch. */
  fetch?: typeof fetch;
}

const HEADER_LENGTH = 'inference-header-content-length';

export class RestTransport implements InferenceTransport {
  readonly kind = 'rest' as const;
  readonly target: string;
  private readonly fetch: typeof fetch;

  /** `url`: the server's base URL, e.g. http://127.0.0.1:8000. */
  constructor(url: string, private readonly options: RestTransportOptions = {}) {
    this.target = url.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  private modelPath(model: string, version: string | undefined): string {
    const base = `/v2/models/${encodeURIComponent(model)}`;
    return version === undefined || version === '' ? base : `${base}/versions/${encodeURIComponent(version)}`;
  }

  /** Sends one request; resolves with the response when its status is 2xx (or in `accept`), else throws its error. */
  private async send(method: 'GET' | 'POST', path: string, ctx: CallContext, body?: { bytes: Uint8Array | string; type: string; headerLength?: number }, accept: readonly number[] = []): Promise<Response> {
    const headers: Record<string, string> = { ...this.options.headers };
    if (body !== undefined) {
      headers['content-type'] = body.type;
      if (body.headerLength !== undefined) headers[HEADER_LENGTH] = String(body.headerLength);
    }
    let res: Response;
    try {
      res = await this.fetch(this.target + path, { method, headers, body: body?.bytes as RequestInit['body'], signal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted && ctx.signal.reason instanceof ClientError) throw ctx.signal.reason;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ClientError('UNAVAILABLE', undefined, `could not reach ${this.target}${path}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, { transport: 'rest', cause: err });
    }
    if (res.ok || accept.includes(res.status)) return res;
    throw await errorOf(res, `${method} ${path}`);
  }

  private async json<T>(res: Response, ctx: CallContext): Promise<T> {
    try {
      return (await res.json()) as T;
    } catch (err) {
      if (ctx.signal.aborted && ctx.signal.reason instanceof ClientError) throw ctx.signal.reason;
      throw new ClientError('INTERNAL', 'MALFORMED_RESPONSE', `the server's answer is not JSON: ${(err as Error).message}`, { transport: 'rest', status: res.status, cause: err });
    }
  }

  async serverLive(ctx: CallContext): Promise<boolean> {
    return (await this.send('GET', '/v2/health/live', ctx, undefined, [503])).ok;
  }

  async serverReady(ctx: CallContext): Promise<boolean> {
    return (await this.send('GET', '/v2/health/ready', ctx, undefined, [503])).ok;
  }

  async serverMetadata(ctx: CallContext): Promise<ServerMetadata> {
    return this.json(await this.send('GET', '/v2', ctx), ctx);
  }

  async modelReady(model: string, version: string | undefined, ctx: CallContext): Promise<boolean> {
    // As tritonclient: not found or not ready is `false`; other errors (a bad request) throw.
    return (await this.send('GET', `${this.modelPath(model, version)}/ready`, ctx, undefined, [404, 503])).ok;
  }

  async modelMetadata(model: string, version: string | undefined, ctx: CallContext): Promise<ModelMetadata> {
    return this.json(await this.send('GET', this.modelPath(model, version), ctx), ctx);
  }

  async modelConfig(model: string, version: string | undefined, ctx: CallContext): Promise<Record<string, unknown>> {
    return this.json(await this.send('GET', `${this.modelPath(model, version)}/config`, ctx), ctx);
  }

  async modelStatistics(model: string | undefined, version: string | undefined, ctx: CallContext): Promise<Record<string, unknown>[]> {
    const path = model === undefined ? '/v2/models/stats' : `${this.modelPath(model, version)}/stats`;
    return (await this.json<{ model_stats: Record<string, unknown>[] }>(await this.send('GET', path, ctx), ctx)).model_stats;
  }

  async repositoryIndex(readyOnly: boolean, ctx: CallContext): Promise<RepositoryIndexEntry[]> {
    return this.json(await this.send('POST', '/v2/repository/index', ctx, { bytes: JSON.stringify({ ready: readyOnly }), type: 'application/json' }), ctx);
  }

  async loadModel(model: string, config: unknown, ctx: CallContext): Promise<void> {
    const body = config === undefined ? {} : { parameters: { config: JSON.stringify(config) } };
    await this.send('POST', `/v2/repository/models/${encodeURIComponent(model)}/load`, ctx, { bytes: JSON.stringify(body), type: 'application/json' });
  }

  async unloadModel(model: string, ctx: CallContext): Promise<void> {
    await this.send('POST', `/v2/repository/models/${encodeURIComponent(model)}/unload`, ctx, { bytes: '{}', type: 'application/json' });
  }

  async infer(model: string, version: string | undefined, request: InferRequest, wire: InferWire, ctx: CallContext): Promise<InferResponse> {
    const sent = ctx.deadlineMs === undefined ? request : withTimeoutParameter(request, ctx.deadlineMs - Date.now());
    let body;
    try {
      if (wire.binary) {
        const { body: bytes, headerLength } = encodeInferRequestBinary(sent, { binaryOutputs: true });
        body = { bytes, type: 'application/octet-stream', headerLength };
      } else {
        body = { bytes: encodeInferRequest(sent), type: 'application/json' };
      }
    } catch (err) {
      throw asClientError(err, 'rest');
    }
    const res = await this.send('POST', `${this.modelPath(model, version)}/infer`, ctx, body);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      if (ctx.signal.aborted && ctx.signal.reason instanceof ClientError) throw ctx.signal.reason;
      throw new ClientError('UNAVAILABLE', undefined, `the connection to ${this.target} broke while reading the answer: ${(err as Error).message}`, { transport: 'rest', cause: err });
    }
    const headerLength = res.headers.get(HEADER_LENGTH);
    try {
      return headerLength === null ? decodeInferResponse(bytes) : decodeInferResponseBinary(bytes, Number(headerLength));
    } catch (err) {
      throw asClientError(err, 'rest');
    }
  }

  close(): void {}
}
