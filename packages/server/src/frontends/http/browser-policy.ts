// What a web browser may make the server do: the decisions behind the browser guard
// (browser-guard.ts), pure functions of a request's headers and the configured names, table-tested.
//
// Two attacks, two checks:
// - Cross-site request forgery: a page of another origin posts to the server (a form, or fetch
//   with Content-Type text/plain, which needs no CORS preflight). Browsers say where such a
//   request comes from (Origin on every cross-origin POST, PUT and DELETE; Sec-Fetch-Site on every
//   request of current browsers), so a request that changes something or runs a model is refused
//   when a browser says it comes from a page of an origin not allowed. Requesting a JSON
//   Content-Type instead would break `curl -d` (form encoding) and stock clients that send none.
//   GET, HEAD and OPTIONS are not concerned: no GET route changes anything, and the same-origin
//   policy keeps a foreign page from reading answers without CORS.
// - DNS rebinding: a page of evil.example has its name resolve to 127.0.0.1, so it becomes "same
//   origin" with the server and can read answers. The browser still sends Host: evil.example, so
//   a Host that is not one of the server's names is refused. IP addresses are always accepted
//   (rebinding needs a DNS name), as is localhost (no attacker serves pages from it).
import { isIP } from 'node:net';
import { SibylError } from '@sibyl/protocol';

/** The configured names, compiled once (see compileBrowserPolicy). */
export interface BrowserPolicy {
  /** Host names (lower case, no trailing dot) accepted on any port. */
  readonly hosts: ReadonlySet<string>;
  /** `name:port` accepted on that port only. */
  readonly hostPorts: ReadonlySet<string>;
  /** Suffixes (`.example.com`) whose subdomains are accepted. */
  readonly hostSuffixes: readonly string[];
  /** `*` in allowedHosts: the Host check is off. */
  readonly anyHost: boolean;
  /** True when allowedHosts lists anything: then it applies on every connection, loopback or not. */
  readonly hostsConfigured: boolean;
  /** Normalised origins (see normaliseOrigin) of http.corsOrigins and http.allowedOrigins. */
  readonly origins: ReadonlySet<string>;
  /** `*` in either list: the Origin check is off. */
  readonly anyOrigin: boolean;
  /** How refusals name what is allowed. */
  readonly describeHosts: string;
  readonly describeOrigins: string;
}

export interface BrowserPolicyOptions {
  allowedHosts?: readonly string[];
  allowedOrigins?: readonly string[];
  corsOrigins?: readonly string[];
}

/** Names accepted on every connection: loopback's own. Addresses (127.0.0.1, [::1]) are accepted as IP addresses. */
const LOOPBACK_NAMES = new Set(['localhost']);

/** The methods that neither change anything nor run a model on Sibyl's routes. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Longest header value quoted back in a refusal. */
const QUOTED_MAX = 100;

/**
 * Compiles the configured lists. Entries are matched without case; a trailing slash of an origin
 * and an origin's default port do not matter.
 * @throws Error naming an entry that is neither a host name nor an origin (the config schema refuses them first; this guards the embedding plugin's options).
 */
export function compileBrowserPolicy(options: BrowserPolicyOptions): BrowserPolicy {
  const allowedHosts = options.allowedHosts ?? [];
  const hosts = new Set<string>();
  const hostPorts = new Set<string>();
  const hostSuffixes: string[] = [];
  let anyHost = false;
  for (const entry of allowedHosts) {
    const text = entry.trim().toLowerCase();
    if (text === '*') {
      anyHost = true;
      continue;
    }
    const parsed = parseHost(text.startsWith('*.') ? text.slice(1) : text);
    if (parsed === undefined) throw new Error(`allowedHosts: ${JSON.stringify(entry)} is not a host name; expected name, name:port, *.domain or *`);
    if (text.startsWith('*.')) hostSuffixes.push(parsed.name);
    else if (parsed.port === undefined) hosts.add(parsed.name);
    else hostPorts.add(`${parsed.name}:${parsed.port}`);
  }
  const origins = new Set<string>();
  let anyOrigin = false;
  const listedOrigins = [...(options.corsOrigins ?? []), ...(options.allowedOrigins ?? [])];
  for (const entry of listedOrigins) {
    if (entry.trim() === '*') {
      anyOrigin = true;
      continue;
    }
    const origin = normaliseOrigin(entry);
    if (origin === undefined) throw new Error(`allowedOrigins/corsOrigins: ${JSON.stringify(entry)} is not an origin; expected scheme://host[:port], null or *`);
    origins.add(origin);
  }
  return {
    hosts,
    hostPorts,
    hostSuffixes,
    anyHost,
    hostsConfigured: allowedHosts.length > 0,
    origins,
    anyOrigin,
    describeHosts: ['localhost', 'IP addresses', ...allowedHosts].join(', '),
    describeOrigins: listedOrigins.length === 0 ? "the server's own origin" : `the server's own origin and ${listedOrigins.join(', ')}`,
  };
}

/** What the browser checks read of a request. Header values as Node gives them (lower-case names). */
export interface BrowserRequest {
  method: string;
  /** Host (HTTP/1.1) or :authority (HTTP/2). */
  host: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
  /** The address the connection reached on this machine; undefined in process (Fastify inject), counted as loopback. */
  localAddress: string | undefined;
}

/**
 * The DNS rebinding check: undefined when the request's Host may be served, else HOST_REFUSED.
 * Accepted: no Host (HTTP/1.0, not a browser), an IP address, localhost, a configured name; with
 * nothing configured, any name on a connection to a non-loopback address (Kubernetes Services,
 * load balancers and proxies call by names the server cannot know).
 */
export function hostDecision(request: Pick<BrowserRequest, 'host' | 'localAddress'>, policy: BrowserPolicy): SibylError | undefined {
  const { host } = request;
  if (host === undefined || policy.anyHost) return undefined;
  const parsed = parseHost(host.toLowerCase());
  if (parsed !== undefined) {
    const { name, port } = parsed;
    if (isIP(name.startsWith('[') ? name.slice(1, -1) : name) !== 0 || LOOPBACK_NAMES.has(name)) return undefined;
    if (policy.hosts.has(name) || (port !== undefined && policy.hostPorts.has(`${name}:${port}`))) return undefined;
    if (policy.hostSuffixes.some((suffix) => name.endsWith(suffix))) return undefined;
    if (!policy.hostsConfigured && !isLoopbackAddress(request.localAddress)) return undefined;
  }
  return new SibylError(
    'HOST_REFUSED',
    `the Host header ${quote(host)} is not a name of this server (accepted: ${policy.describeHosts}); a page of a DNS name that points at the server is how DNS rebinding reaches it. If clients reach the server by this name, add it to http.allowedHosts (SIBYL_HTTP_ALLOWED_HOSTS, --http-allowed-hosts); see docs/security.md`,
  );
}

/**
 * The cross-site request check: undefined when the request may run, else ORIGIN_REFUSED. Only
 * methods that change something or run a model are concerned. A request carrying an Origin runs
 * when that origin is the server's own (its host and port are the Host header's) or a configured
 * one; one without Origin runs unless the browser says it comes from another site
 * (Sec-Fetch-Site: cross-site or same-site). Requests with neither header do not come from a
 * page's script or form in any current browser: curl, SDKs and other servers are not concerned.
 */
export function originDecision(request: Omit<BrowserRequest, 'localAddress'>, policy: BrowserPolicy): SibylError | undefined {
  if (SAFE_METHODS.has(request.method) || policy.anyOrigin) return undefined;
  const { origin } = request;
  if (origin === undefined) {
    const site = request.secFetchSite?.toLowerCase();
    if (site !== 'cross-site' && site !== 'same-site') return undefined;
    return new SibylError(
      'ORIGIN_REFUSED',
      `a browser sent this ${request.method} from a page of another site (Sec-Fetch-Site: ${site}) without saying its origin; the server runs such requests only from pages of ${policy.describeOrigins}; refused before it ran, nothing changed. To let a page call the API, add its origin to http.corsOrigins; see docs/security.md`,
    );
  }
  const normalised = normaliseOrigin(origin);
  if (normalised !== undefined && (policy.origins.has(normalised) || isOwnOrigin(normalised, request.host))) return undefined;
  return new SibylError(
    'ORIGIN_REFUSED',
    `a page of origin ${quote(origin)} may not send ${request.method} requests to this server (allowed: ${policy.describeOrigins}); refused before it ran, nothing changed. To let that page call the API, add its origin to http.corsOrigins (SIBYL_HTTP_CORS_ORIGINS, --http-cors-origins); see docs/security.md`,
  );
}

/** A warning for the start-up log when the server listens beyond loopback with no names to check Host against; undefined otherwise. */
export function hostCheckWarning(bindAddress: string, allowedHosts: readonly string[]): string | undefined {
  if (allowedHosts.length > 0 || isLoopbackAddress(bindAddress) || bindAddress === 'localhost') return undefined;
  return `listening on ${bindAddress} with http.allowedHosts empty: requests reaching a non-loopback address are served whatever their Host header names, so a web page can reach the API by DNS rebinding through that address; set http.allowedHosts (SIBYL_HTTP_ALLOWED_HOSTS) to the names clients use (see docs/security.md)`;
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms; undefined (in process) counts as loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return true;
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return a === '::1' || (isIP(v4) === 4 && v4.startsWith('127.'));
}

/**
 * `scheme://host[:port]` in lower case without the scheme's default port or a trailing slash, as
 * browsers serialise an Origin; `null` (sandboxed frames, file: pages) stays `null`; undefined for
 * text that is not an origin.
 */
export function normaliseOrigin(text: string): string | undefined {
  const t = text.trim().toLowerCase().replace(/\/$/, '');
  if (t === 'null') return t;
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#\s@]+)$/.exec(t);
  if (match === null) return undefined;
  const [, scheme, authority] = match as unknown as [string, string, string];
  const parsed = parseHost(authority);
  if (parsed === undefined) return undefined;
  const port = parsed.port === undefined || parsed.port === DEFAULT_PORTS[scheme] ? '' : `:${parsed.port}`;
  return `${scheme}://${parsed.name}${port}`;
}

const DEFAULT_PORTS: Record<string, string | undefined> = { http: '80', https: '443', ws: '80', wss: '443' };

/**
 * Same origin as the server: the page's host and port are the ones the request was sent to (the
 * Host header; a missing port is the page's scheme's default). The scheme is not compared: behind
 * a proxy that ends TLS, a same-origin page is https while the server sees http, and no attacker
 * serves pages at the server's own host and port.
 */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  const scheme = origin.slice(0, Math.max(0, origin.indexOf(':')));
  if (host === undefined || (scheme !== 'http' && scheme !== 'https')) return false;
  const parsedHost = parseHost(host.toLowerCase());
  const parsedOrigin = parseHost(origin.slice(scheme.length + 3));
  if (parsedHost === undefined || parsedOrigin === undefined) return false;
  const defaultPort = DEFAULT_PORTS[scheme];
  return parsedHost.name === parsedOrigin.name && (parsedHost.port ?? defaultPort) === (parsedOrigin.port ?? defaultPort);
}

/** `name[:port]` or `[v6][:port]` (lower case) into its parts, the name without a trailing dot; undefined when malformed. */
function parseHost(text: string): { name: string; port: string | undefined } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::([0-9]{1,5}))?$/.exec(text);
  if (match === null) return undefined;
  const name = match[1]!.endsWith('.') && !match[1]!.startsWith('[') ? match[1]!.slice(0, -1) : match[1]!;
  if (name === '' || name === '.') return undefined;
  return { name, port: match[2] };
}

function quote(value: string): string {
  return JSON.stringify(value.length > QUOTED_MAX ? `${value.slice(0, QUOTED_MAX)}…` : value);
}
