import { describe, expect, it } from 'vitest';
import { compileBrowserPolicy, hostCheckWarning, hostDecision, isLoopbackAddress, normaliseOrigin, originDecision, type BrowserPolicyOptions, type BrowserRequest } from './browser-policy.ts';

const NONE: BrowserPolicyOptions = {};
const NAMED: BrowserPolicyOptions = { allowedHosts: ['sibyl.example.com', 'api.example.com:8443', '*.svc.cluster.local'] };

describe('hostDecision (DNS rebinding)', () => {
  // [what, Host, local address of the connection, configuration, accepted]
  const cases: [string, string | undefined, string | undefined, BrowserPolicyOptions, boolean][] = [
    ['localhost on loopback', 'localhost:8000', '127.0.0.1', NONE, true],
    ['localhost without a port', 'localhost', '127.0.0.1', NONE, true],
    ['LOCALHOST in capitals', 'LOCALHOST:8000', '127.0.0.1', NONE, true],
    ['localhost with a trailing dot', 'localhost.:8000', '127.0.0.1', NONE, true],
    ['127.0.0.1', '127.0.0.1:8000', '127.0.0.1', NONE, true],
    ['[::1]', '[::1]:8000', '::1', NONE, true],
    ['another IP address (a pod IP, as kubelet sends)', '10.1.2.3:8000', '10.1.2.3', NONE, true],
    ['an IPv6 address', '[fd00::5]:8000', 'fd00::5', NONE, true],
    ['no Host (HTTP/1.0)', undefined, '127.0.0.1', NONE, true],
    ['a rebinding name on loopback', 'evil.example:8000', '127.0.0.1', NONE, false],
    ['a rebinding name on IPv4-mapped loopback', 'evil.example', '::ffff:127.0.0.1', NONE, false],
    ['a rebinding name in process (inject)', 'evil.example', undefined, NONE, false],
    ['a subdomain of localhost is a name like any other', 'a.localhost:8000', '127.0.0.1', NONE, false],
    ['any name beyond loopback when none is configured', 'sibyl.default.svc:8000', '10.1.2.3', NONE, true],
    ['a configured name on any port', 'sibyl.example.com:9000', '127.0.0.1', NAMED, true],
    ['a configured name with port', 'api.example.com:8443', '10.1.2.3', NAMED, true],
    ['a configured name on another port', 'api.example.com:8000', '10.1.2.3', NAMED, false],
    ['a subdomain of a configured suffix', 'sibyl.ns.svc.cluster.local:8000', '10.1.2.3', NAMED, true],
    ['the suffix itself is not a subdomain', 'svc.cluster.local', '10.1.2.3', NAMED, false],
    ['a name ending like a suffix without its dot', 'evilsvc.cluster.local', '10.1.2.3', NAMED, false],
    ['an unlisted name beyond loopback once names are configured', 'evil.example', '10.1.2.3', NAMED, false],
    ['IP addresses even when names are configured', '10.1.2.3:8000', '10.1.2.3', NAMED, true],
    ['any name with *', 'evil.example', '127.0.0.1', { allowedHosts: ['*'] }, true],
    ['a malformed Host', 'evil.example/x', '127.0.0.1', NONE, false],
    ['a malformed Host beyond loopback', 'a b', '10.1.2.3', NAMED, false],
  ];
  it.each(cases)('%s: Host %s on %s', (_what, host, localAddress, config, accepted) => {
    const refusal = hostDecision({ host, localAddress }, compileBrowserPolicy(config));
    expect(refusal === undefined).toBe(accepted);
    if (refusal !== undefined) {
      expect(refusal.reason).toBe('HOST_REFUSED');
      expect(refusal.httpStatus).toBe(421);
      expect(refusal.message).toContain('http.allowedHosts');
    }
  });

  it('quotes a long Host only in part', () => {
    const refusal = hostDecision({ host: `${'a'.repeat(5000)}.example`, localAddress: '127.0.0.1' }, compileBrowserPolicy(NONE));
    expect(refusal!.message.length).toBeLessThan(700);
  });
});

describe('originDecision (cross-site requests)', () => {
  const CORS: BrowserPolicyOptions = { corsOrigins: ['https://app.example.com'] };
  const POSTING: BrowserPolicyOptions = { allowedOrigins: ['https://forms.example.com/', 'http://localhost:3000'] };
  const request = (method: string, origin: string | undefined, host: string | undefined = 'localhost:8000', secFetchSite?: string): Omit<BrowserRequest, 'localAddress'> => ({
    method,
    origin,
    host,
    secFetchSite,
  });
  // [what, request, configuration, runs]
  const cases: [string, Omit<BrowserRequest, 'localAddress'>, BrowserPolicyOptions, boolean][] = [
    ['curl: no Origin, no Sec-Fetch-Site', request('POST', undefined), NONE, true],
    ['a foreign page posting', request('POST', 'https://evil.example'), NONE, false],
    ['a foreign page putting', request('PUT', 'https://evil.example'), NONE, false],
    ['a foreign page deleting', request('DELETE', 'https://evil.example'), NONE, false],
    ['a foreign page patching', request('PATCH', 'https://evil.example'), NONE, false],
    ['a foreign page reading (same-origin policy keeps the answer from it)', request('GET', 'https://evil.example'), NONE, true],
    ['a preflight (CORS decides)', request('OPTIONS', 'https://evil.example'), NONE, true],
    ['HEAD', request('HEAD', 'https://evil.example'), NONE, true],
    ['the server own origin', request('POST', 'http://localhost:8000'), NONE, true],
    ['its own origin in capitals', request('POST', 'HTTP://LOCALHOST:8000'), NONE, true],
    ['its own origin on the default port', request('POST', 'http://localhost', 'localhost'), NONE, true],
    ['its own origin, default port spelled out in Host', request('POST', 'http://localhost', 'localhost:80'), NONE, true],
    ['its own origin through a proxy ending TLS', request('POST', 'https://sibyl.example.com', 'sibyl.example.com'), NONE, true],
    ['https origin, Host on port 80', request('POST', 'https://sibyl.example.com', 'sibyl.example.com:80'), NONE, false],
    ['another port of the same host (another local dev server)', request('POST', 'http://localhost:3000'), NONE, false],
    ['no Host: the own origin cannot be told (HTTP/1.0)', { method: 'POST', origin: 'http://localhost:8000', host: undefined, secFetchSite: undefined }, NONE, false],
    ['Origin: null (sandboxed frame, file: page)', request('POST', 'null'), NONE, false],
    ['Origin: null when listed', request('POST', 'null'), { allowedOrigins: ['null'] }, true],
    ['a CORS origin', request('POST', 'https://app.example.com'), CORS, true],
    ['a CORS origin with the default port', request('POST', 'https://app.example.com:443'), CORS, true],
    ['a CORS origin on another scheme', request('POST', 'http://app.example.com'), CORS, false],
    ['another origin with CORS on', request('POST', 'https://evil.example'), CORS, false],
    ['an allowed origin listed with a trailing slash', request('POST', 'https://forms.example.com'), POSTING, true],
    ['an allowed local origin', request('POST', 'http://localhost:3000'), POSTING, true],
    ['any origin with CORS *', request('POST', 'https://evil.example'), { corsOrigins: ['*'] }, true],
    ['any origin with allowedOrigins *', request('POST', 'https://evil.example'), { allowedOrigins: ['*'] }, true],
    ['an extension origin not listed', request('POST', 'chrome-extension://abcdef', 'abcdef'), NONE, false],
    ['an extension origin listed', request('POST', 'chrome-extension://abcdef'), { allowedOrigins: ['chrome-extension://abcdef'] }, true],
    ['a malformed Origin', request('POST', 'not an origin'), NONE, false],
    ['two Origins joined', request('POST', 'https://app.example.com, https://evil.example'), CORS, false],
    ['no Origin, Sec-Fetch-Site: cross-site', request('POST', undefined, 'localhost:8000', 'cross-site'), NONE, false],
    ['no Origin, Sec-Fetch-Site: same-site', request('POST', undefined, 'localhost:8000', 'same-site'), NONE, false],
    ['no Origin, Sec-Fetch-Site: same-origin', request('POST', undefined, 'localhost:8000', 'same-origin'), NONE, true],
    ['no Origin, Sec-Fetch-Site: none (typed by the user)', request('POST', undefined, 'localhost:8000', 'none'), NONE, true],
    ['an allowed Origin decides over Sec-Fetch-Site', request('POST', 'https://app.example.com', 'localhost:8000', 'cross-site'), CORS, true],
    ['a GET with Sec-Fetch-Site: cross-site (a link)', request('GET', undefined, 'localhost:8000', 'cross-site'), NONE, true],
  ];
  it.each(cases)('%s', (_what, req, config, runs) => {
    const refusal = originDecision(req, compileBrowserPolicy(config));
    expect(refusal === undefined).toBe(runs);
    if (refusal !== undefined) {
      expect(refusal.reason).toBe('ORIGIN_REFUSED');
      expect(refusal.httpStatus).toBe(403);
      expect(refusal.message).toContain('http.corsOrigins');
    }
  });

  it('names the origin refused and what is allowed', () => {
    const refusal = originDecision(request('POST', 'https://evil.example'), compileBrowserPolicy(CORS));
    expect(refusal!.message).toContain('"https://evil.example"');
    expect(refusal!.message).toContain("(allowed: the server's own origin and https://app.example.com)");
  });
});

describe('compileBrowserPolicy', () => {
  it('refuses entries that are neither names nor origins (the embedding plugin passes them unvalidated)', () => {
    expect(() => compileBrowserPolicy({ allowedHosts: ['http://x'] })).toThrow(/allowedHosts: "http:\/\/x" is not a host name/);
    expect(() => compileBrowserPolicy({ allowedOrigins: ['app.example.com'] })).toThrow(/is not an origin/);
    expect(() => compileBrowserPolicy({ corsOrigins: ['https://a.example/path'] })).toThrow(/is not an origin/);
  });
});

describe('normaliseOrigin', () => {
  it.each([
    ['https://App.Example.com/', 'https://app.example.com'],
    ['http://localhost:80', 'http://localhost'],
    ['https://x.example:443', 'https://x.example'],
    ['https://x.example:8443', 'https://x.example:8443'],
    ['http://[::1]:8000', 'http://[::1]:8000'],
    ['null', 'null'],
    ['tauri://localhost', 'tauri://localhost'],
    ['https://user@x.example', undefined],
    ['x.example', undefined],
    ['https://x.example/path', undefined],
  ])('%s → %s', (text, expected) => {
    expect(normaliseOrigin(text)).toBe(expected);
  });
});

describe('isLoopbackAddress and the start-up warning', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    [undefined, true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.1.2.3', false],
    ['::ffff:10.1.2.3', false],
  ])('%s → %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });

  it('warns on a bind beyond loopback with no names, only then', () => {
    expect(hostCheckWarning('0.0.0.0', [])).toMatch(/listening on 0\.0\.0\.0 with http\.allowedHosts empty.*DNS rebinding/);
    expect(hostCheckWarning('::', [])).toContain('listening on ::');
    expect(hostCheckWarning('0.0.0.0', ['sibyl.example.com'])).toBeUndefined();
    expect(hostCheckWarning('127.0.0.1', [])).toBeUndefined();
    expect(hostCheckWarning('localhost', [])).toBeUndefined();
    expect(hostCheckWarning('::1', [])).toBeUndefined();
  });
});
