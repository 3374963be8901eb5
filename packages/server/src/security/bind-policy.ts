// Secure by default (issue 15): whether a server may start on its host with the authentication
// it has. On a loopback host nothing changes for a newcomer (no authentication needed); on any
// other host the server refuses to start without authentication, unless the operator says
// allowUnauthenticated (then it starts, and says so loudly). Pure.
import { isIP } from 'node:net';

/** 127.0.0.0/8, ::1 (and its IPv4-mapped form), localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.toLowerCase() === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || h.toLowerCase().startsWith('::ffff:127.');
  return false;
}

export type BindDecision =
  /** Authentication is configured: start. */
  | 'authenticated'
  /** A loopback host without authentication: start, as always. */
  | 'loopback'
  /** Another host without authentication, allowed by the operator: start, and warn. */
  | 'unauthenticated-allowed'
  /** Another host without authentication: refuse to start. */
  | 'refused';

export function bindDecision(host: string, authenticationOn: boolean, allowUnauthenticated: boolean): BindDecision {
  if (authenticationOn) return 'authenticated';
  if (isLoopbackHost(host)) return 'loopback';
  return allowUnauthenticated ? 'unauthenticated-allowed' : 'refused';
}

/** Why the server refuses to start (a ConfigError's message). */
export function refusedBindMessage(host: string): string {
  return `host is ${host}, which is not a loopback address, and no authentication is configured (auth.apiKeys, auth.apiKeysFile or auth.jwt): anyone who reaches the port could load, unload and replace models. Configure authentication (see docs/security.md), bind 127.0.0.1, or pass --allow-unauthenticated (SIBYL_ALLOW_UNAUTHENTICATED=true) to accept the risk`;
}

export function unauthenticatedWarning(host: string): string {
  return `SECURITY: serving on ${host} WITHOUT AUTHENTICATION (--allow-unauthenticated): anyone who reaches the port may infer, load, unload and replace models, change endpoints and run batch jobs. Configure auth.apiKeys or auth.jwt (docs/security.md)`;
}
