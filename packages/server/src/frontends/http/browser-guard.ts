// The browser guard: one onRequest hook that refuses, before any route runs and before the body is
// read, what a web page must not make the server do (decisions in browser-policy.ts). Installed by
// registerHttpRoutes (so the embedding plugin has it too) and on the metrics listener.
import type { SibylError } from '@sibyl/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { KeyedLineWriter } from '../../serving/frontend-vocabulary.ts';
import { hostDecision, originDecision, type BrowserPolicy, type BrowserRequest } from './browser-policy.ts';
import { sendError } from './errors.ts';

export interface BrowserGuardOptions {
  policy: BrowserPolicy;
  /** Route URLs (with the app's prefix) the Host check lets through: the health probes, which a kubelet may call by any name. */
  exempt: ReadonlySet<string>;
  /** Only the Host check (a listener without routes that change anything, such as the metrics one). */
  hostOnly?: boolean;
  /** Where refusals are logged (warn, a burst per reason then a summary): an operator sees which names or origins to allow. */
  lines: KeyedLineWriter;
}

/** Most Host/address pairs remembered as accepted; past it, new pairs are decided every time (a flood of made-up names cannot grow memory). */
const ACCEPTED_HOSTS_KEPT = 1024;

/** Adds the hook to `app` (first, so it runs before the draining gate and any other hook added after it). */
export function installBrowserGuard(app: FastifyInstance, options: BrowserGuardOptions): void {
  const { policy, exempt, hostOnly, lines } = options;
  // Clients keep sending the same few Host values: an accepted one is remembered with the address
  // it came to, so the hot path is one Set lookup instead of parsing the header again.
  const acceptedHosts = new Set<string>();
  const hostRefusal = (seen: BrowserRequest): SibylError | undefined => {
    const key = `${seen.host}\n${seen.localAddress}`;
    if (acceptedHosts.has(key)) return undefined;
    const refusal = hostDecision(seen, policy);
    if (refusal === undefined && acceptedHosts.size < ACCEPTED_HOSTS_KEPT) acceptedHosts.add(key);
    return refusal;
  };
  // Callback-style: an async hook costs a promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    const seen = browserRequest(request);
    const refusal = (exempt.has(request.routeOptions.url ?? '') ? undefined : hostRefusal(seen)) ?? (hostOnly === true ? undefined : originDecision(seen, policy));
    if (refusal === undefined) {
      done();
      return;
    }
    const log = request.log as Logger;
    lines.write(log, 'warn', `http browser guard ${refusal.reason}`, { reason: refusal.reason, method: request.method, url: request.url }, `refused: ${refusal.message}`);
    sendError(reply, refusal);
  });
}

function browserRequest(request: FastifyRequest): BrowserRequest {
  const headers = request.headers;
  return {
    method: request.method,
    host: headers.host ?? (headers[':authority'] as string | undefined),
    origin: headers.origin,
    secFetchSite: headers['sec-fetch-site'] as string | undefined,
    localAddress: request.socket?.localAddress,
  };
}
