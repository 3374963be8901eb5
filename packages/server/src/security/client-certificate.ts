// mTLS: the identity a verified client certificate carries, as a principal. The frontends call
// these only for a connection whose certificate the listener verified against tls.caFile; the
// authentication helper may call principalFromCertificate too (for a request that brings no other
// credentials).
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { Principal } from '../core/request-context.ts';

/** tls.clientPrincipals: scopes by certificate identity; `*` for any verified certificate not named. */
export type ClientPrincipals = Readonly<Record<string, readonly string[]>>;

/** The key of clientPrincipals that stands for any identity not named. */
export const ANY_CERTIFICATE = '*';

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/**
 * A certificate's identity: its subject's CN, else its first URI SAN (SPIFFE ids), DNS SAN or
 * email SAN, in that order of preference. Undefined when it has none of them.
 */
export function certificateIdentity(certificate: PeerCertificate): string | undefined {
  const cn = first(certificate.subject?.CN as string | string[] | undefined);
  if (cn !== undefined && cn !== '') return cn;
  // Node writes SANs as `DNS:a, URI:b, email:c` (values with separators in them are JSON-quoted).
  const names = (certificate.subjectaltname ?? '').split(/, (?=[A-Za-z ]+:)/).map((entry) => {
    const colon = entry.indexOf(':');
    const raw = entry.slice(colon + 1);
    return { kind: entry.slice(0, colon), value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw };
  });
  for (const kind of ['URI', 'DNS', 'email']) {
    const found = names.find((n) => n.kind === kind && n.value !== '');
    if (found !== undefined) return found.value;
  }
  return undefined;
}

/**
 * The principal of a VERIFIED client certificate: its identity (certificateIdentity) with the
 * scopes tls.clientPrincipals gives it (or `*`'s). Undefined when there is no certificate, it
 * has no identity, or the identity has no entry: such a caller is then as anonymous as one
 * without a certificate (authentication, when on, asks it for other credentials).
 */
export function principalFromCertificate(certificate: PeerCertificate | undefined, principals: ClientPrincipals): Principal | undefined {
  if (certificate === undefined || certificate.raw === undefined) return undefined;
  const identity = certificateIdentity(certificate);
  if (identity === undefined) return undefined;
  const scopes = Object.hasOwn(principals, identity) ? principals[identity] : principals[ANY_CERTIFICATE];
  return scopes === undefined ? undefined : { id: identity, scopes: [...scopes] };
}

/**
 * The principal of a TLS connection's client certificate, when the listener verified one
 * (`socket.authorized`); worked out once per connection. Undefined for plain TCP sockets.
 */
export function connectionPrincipal(principals: ClientPrincipals): (socket: unknown) => Principal | undefined {
  const known = new WeakMap<object, Principal | null>();
  return (socket) => {
    const tls = socket as Partial<TLSSocket> | undefined;
    if (tls === undefined || tls === null || tls.authorized !== true || typeof tls.getPeerCertificate !== 'function') return undefined;
    let principal = known.get(tls);
    if (principal === undefined) {
      principal = principalFromCertificate(tls.getPeerCertificate(), principals) ?? null;
      known.set(tls, principal);
    }
    return principal ?? undefined;
  };
}
