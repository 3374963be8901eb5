// Where requests go and their exact bytes. Every inference request of a run is serialised once
// (request line, headers and body in one Buffer) so that sending one is a single socket write.
import type { EncodedBody } from './request-builder.ts';

/** A parsed server base URL. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** The Host header value (host[:port] as in the URL). */
  readonly hostHeader: string;
  /** Path prefix of the base URL without trailing slash ('' for none). */
  readonly basePath: string;
}

/** A request ready to write: all its bytes, and the rows it carries. */
export interface PreparedRequest {
  readonly bytes: Buffer;
  readonly rows: number;
}

export function parseEndpoint(url: string): Endpoint {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  // URL keeps IPv6 literals bracketed; sockets want them bare.
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { host, port: u.port === '' ? (tls ? 443 : 80) : Number(u.port), tls, hostHeader: u.host, basePath: u.pathname.replace(/\/+$/, '') };
}

/** Path of a model resource: /v2/models/{m}[/versions/{v}][suffix], under the base path. */
export function modelPath(endpoint: Endpoint, model: string, version: string | undefined, suffix = ''): string {
  const v = version === undefined ? '' : `/versions/${encodeURIComponent(version)}`;
  return `${endpoint.basePath}/v2/models/${encodeURIComponent(model)}${v}${suffix}`;
}

/**
 * The bytes of one HTTP/1.1 keep-alive POST of `body` to `path`. JSON bodies go as
 * application/json; binary-extension bodies as application/octet-stream with
 * Inference-Header-Content-Length. `headers` are added as given; a Host or Content-Type among
 * them replaces the default one.
 */
export function prepareRequest(endpoint: Endpoint, path: string, body: EncodedBody, headers: Readonly<Record<string, string>>): PreparedRequest {
  const given = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
  const lines = [`POST ${path} HTTP/1.1`];
  if (!given.has('host')) lines.push(`Host: ${endpoint.hostHeader}`);
  if (!given.has('content-type')) lines.push(`Content-Type: ${body.headerLength === undefined ? 'application/json' : 'application/octet-stream'}`);
  if (body.headerLength !== undefined) lines.push(`Inference-Header-Content-Length: ${body.headerLength}`);
  lines.push(`Content-Length: ${body.body.length}`);
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return { bytes: Buffer.concat([head, body.body]), rows: body.rows };
}
