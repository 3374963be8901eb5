// What the composition root (server.ts) needs to put every listener under the `tls` section:
// options for the HTTP servers (Fastify's `https`), gRPC server credentials, the reloader that
// swaps their certificates on change, and how a connection's client certificate becomes a
// principal.
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { PeerCertificate, Server as TlsServer } from 'node:tls';
import type { ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Principal } from '../core/request-context.ts';
import type { ServerConfig } from '../config/server-config.ts';
import { ConfigError } from '../config/validate.ts';
import { connectionPrincipal, principalFromCertificate } from './client-certificate.ts';
import { grpcServerCredentials } from './grpc-credentials.ts';
import { TlsMaterialError } from './tls-material.ts';
import { TlsReloader, type TlsReloaderOptions } from './tls-reloader.ts';

export interface ListenerTls {
  /** Options of a new HTTPS server (Fastify's `https`), with the current certificate. */
  httpsOptions(): HttpsServerOptions;
  /** gRPC server credentials that follow the reloader. */
  readonly grpcCredentials: ServerCredentials;
  /** The principal of a connection's verified client certificate (tls.clientPrincipals); absent without client certificates. */
  readonly principalOfConnection: ((socket: unknown) => Principal | undefined) | undefined;
  /** The same for a certificate already verified (gRPC's auth context gives only those). */
  readonly principalOfCertificate: ((certificate: PeerCertificate | undefined) => Principal | undefined) | undefined;
  /** Makes an HTTPS server take each new certificate for its new connections (open ones keep theirs). */
  follow(server: TlsServer): void;
  readonly reloader: TlsReloader;
  /** Stops watching the files. Idempotent. */
  close(): void;
}

/**
 * Reads and checks the tls section's files and starts watching them; undefined when TLS is off
 * (no tls.certFile). Relative paths resolve against the working directory (`sibyl serve` has
 * made those of sibyl.yaml relative to its folder already).
 * @throws ConfigError naming the field of a missing, unreadable or unusable file.
 */
export async function openListenerTls(tls: ServerConfig['tls'], log: Logger, seams: Pick<TlsReloaderOptions, 'read' | 'stat'> = {}): Promise<ListenerTls | undefined> {
  if (tls.certFile === undefined || tls.keyFile === undefined) return undefined;
  const mode = tls.clientCertificates;
  let reloader: TlsReloader;
  try {
    reloader = await TlsReloader.create({
      files: { certFile: tls.certFile, keyFile: tls.keyFile, caFile: mode === 'none' ? undefined : tls.caFile },
      intervalMs: tls.reloadIntervalMs,
      log,
      ...seams,
    });
  } catch (err) {
    if (err instanceof TlsMaterialError) throw new ConfigError('configuration', [{ path: err.field, message: err.message }]);
    throw err;
  }
  log.info({ subject: reloader.current.subject, validTo: reloader.current.validTo, clientCertificates: mode }, 'TLS on every listener');
  return {
    httpsOptions: () => {
      const { cert, key, ca } = reloader.current;
      // 'request': verified when sent, never refused for lacking one; only a verified certificate gives a principal.
      return { cert, key, ca, requestCert: mode !== 'none', rejectUnauthorized: mode === 'require' };
    },
    grpcCredentials: grpcServerCredentials(reloader, mode),
    principalOfConnection: mode === 'none' ? undefined : connectionPrincipal(tls.clientPrincipals),
    principalOfCertificate: mode === 'none' ? undefined : (certificate) => principalFromCertificate(certificate, tls.clientPrincipals),
    follow: (server) => {
      const stop = reloader.onChange(({ cert, key, ca }) => server.setSecureContext({ cert, key, ca }));
      server.once('close', stop);
    },
    reloader,
    close: () => reloader.close(),
  };
}
