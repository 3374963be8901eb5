// Reads a model's metadata (GET /v2/models/{m}[/versions/{v}]) before a run: it proves the
// server is reachable and the model exists, and tells the request builder the inputs.
import http from 'node:http';
import https from 'node:https';
import type { ModelMetadata } from '@sibyl/protocol';
import { BenchError } from './errors.ts';
import type { Endpoint } from './http-request.ts';
import { modelPath } from './http-request.ts';

export interface MetadataRequest {
  readonly endpoint: Endpoint;
  readonly url: string;
  readonly model: string;
  readonly modelVersion: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * GETs the model metadata. Throws BenchError 'unreachable' when no HTTP response came (refused,
 * DNS, TLS, timeout) and 'metadata' when the response is an error or not model metadata; both
 * messages name the URL.
 */
export async function fetchModelMetadata(req: MetadataRequest): Promise<ModelMetadata> {
  const path = modelPath(req.endpoint, req.model, req.modelVersion);
  const url = `${req.endpoint.tls ? 'https' : 'http'}://${req.endpoint.hostHeader}${path}`;
  let res: { status: number; text: string };
  try {
    res = await get(req, path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const detail = err.name === 'TimeoutError' ? `no response within ${req.timeoutMs} ms` : err.code !== undefined ? `${err.code}: ${err.message}` : err.message;
    throw new BenchError('unreachable', `cannot reach ${req.url}: GET ${url} failed (${detail})`);
  }
  const { status, text } = res;
  if (status < 200 || status >= 300) {
    let message = text.slice(0, 300);
    try {
      const doc = JSON.parse(text) as { error?: unknown };
      if (typeof doc.error === 'string') message = doc.error;
    } catch {
      // not JSON: show the text
    }
    const hint = status === 404 ? ` (is '${req.model}'${req.modelVersion === undefined ? '' : ` version ${req.modelVersion}`} served there?)` : '';
    throw new BenchError('metadata', `GET ${url} answered ${status}${hint}: ${message === '' ? '(empty body)' : message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new BenchError('metadata', `GET ${url} answered ${status} but not with JSON: ${text.slice(0, 200)}`);
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as ModelMetadata).inputs)) {
    throw new BenchError('metadata', `GET ${url} did not answer with model metadata (no "inputs" array): ${text.slice(0, 200)}`);
  }
  return doc as ModelMetadata;
}

/**
 * One GET with node:http(s) (not fetch: fetch refuses some ports, e.g. 6000 or 10080, that the
 * bench's raw sockets would reach). Rejects with the socket error, or a TimeoutError.
 */
function get(req: MetadataRequest, path: string): Promise<{ status: number; text: string }> {
  const { host, port, tls } = req.endpoint;
  const signals = [AbortSignal.timeout(req.timeoutMs)];
  if (req.signal !== undefined) signals.push(req.signal);
  const signal = AbortSignal.any(signals);
  return new Promise((resolve, reject) => {
    const request = (tls ? https : http).get(
      { host, port, path, headers: { accept: 'application/json', host: req.endpoint.hostHeader, ...req.headers }, signal, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    request.on('error', (e) => reject(signal.aborted && signal.reason instanceof Error ? signal.reason : e));
  });
}
