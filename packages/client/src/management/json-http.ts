// JSON over HTTP for the management API: one attempt of one call, with fetch (Node 18+ and
// browsers). The call loop (deadline, retries) is the client's; this only speaks the wire.
import { ClientError } from '../errors.ts';
import { errorOf } from '../rest/http-error.ts';
import type { CallContext } from '../transport.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface JsonHttpOptions {
  /** Headers sent with every request (authentication, tracing). */
  headers?: Record<string, string>;
  /** The fetch to use. Default: the global fetch. */
  fetch?: typeof fetch;
}

export class JsonHttp {
  /** The server's base URL without a trailing slash. */
  readonly target: string;
  private readonly fetch: typeof fetch;
  private readonly headers: Record<string, string>;

  constructor(url: string, options: JsonHttpOptions = {}) {
    this.target = url.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.headers = { ...options.headers };
  }

  /**
   * Sends `body` (absent: none) as JSON and resolves with the parsed answer (an empty answer is
   * `{}`). @throws ClientError: the server's error (code, reason, status, retryAfterMs);
   * UNAVAILABLE without a status when the server could not be reached; INTERNAL
   * MALFORMED_RESPONSE when a 2xx answer is not JSON; the context's error when it fired.
   */
  async call<T>(method: Method, path: string, ctx: CallContext, body?: unknown): Promise<T> {
    const headers = body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' };
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(this.target + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: ctx.signal });
      if (!res.ok) throw await errorOf(res, `${method} ${path}`);
      text = await res.text();
    } catch (err) {
      if (ctx.signal.aborted && ctx.signal.reason instanceof ClientError) throw ctx.signal.reason;
      if (err instanceof ClientError) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ClientError('UNAVAILABLE', undefined, `could not reach ${this.target}${path}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, { transport: 'rest', cause: err });
    }
    try {
      return (text === '' ? {} : JSON.parse(text)) as T;
    } catch (err) {
      throw new ClientError('INTERNAL', 'MALFORMED_RESPONSE', `${method} ${this.target}${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`, { transport: 'rest', status: res.status, cause: err });
    }
  }
}
