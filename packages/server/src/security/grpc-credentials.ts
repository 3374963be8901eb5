// gRPC TLS that follows the reloader: grpc-js's certificate-provider credentials, fed by a
// provider of our own rather than grpc-js's FileWatcherCertificateProvider, so that only material
// tls-material.ts checked reaches the listener (grpc-js drops every connection when a pushed
// context fails), and HTTP and gRPC change certificates together from one set of checks.
import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import type { ClientCertificateMode } from '../config/tls-config.ts';
import type { TlsMaterial } from './tls-material.ts';
import type { TlsReloader } from './tls-reloader.ts';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** A grpc-js CertificateProvider that pushes the reloader's material, now and on every change. */
class ReloaderCertificateProvider implements experimental.CertificateProvider {
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly reloader: TlsReloader) {}

  private subscribe(): void {
    this.unsubscribe ??= this.reloader.onChange((material) => this.push(material));
  }

  private maybeUnsubscribe(): void {
    if (this.caListeners.size > 0 || this.identityListeners.size > 0) return;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private push(material: TlsMaterial): void {
    for (const listener of this.caListeners) listener(material.ca === undefined ? null : { caCertificate: material.ca });
    for (const listener of this.identityListeners) listener({ certificate: material.cert, privateKey: material.key });
  }

  // The first update goes out on the next microtask: grpc-js subscribes its credentials to the
  // provider before it registers the server that listens for their updates, so a synchronous
  // update would reach no server, which would then drop every connection as unconfigured.
  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    this.subscribe();
    queueMicrotask(() => {
      const ca = this.reloader.current.ca;
      if (this.caListeners.has(listener)) listener(ca === undefined ? null : { caCertificate: ca });
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
    this.maybeUnsubscribe();
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    this.subscribe();
    queueMicrotask(() => {
      const { cert, key } = this.reloader.current;
      if (this.identityListeners.has(listener)) listener({ certificate: cert, privateKey: key });
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
    this.maybeUnsubscribe();
  }
}

/** Server credentials serving the reloader's certificate, asking for client certificates as `mode` says. */
export function grpcServerCredentials(reloader: TlsReloader, mode: ClientCertificateMode): ServerCredentials {
  const provider = new ReloaderCertificateProvider(reloader);
  // grpc-js's declaration names the parameters the wrong way round: its implementation takes the
  // identity provider first and the CA provider (null: no client certificates asked) second.
  return experimental.createCertificateProviderServerCredentials(provider, mode === 'none' ? null : provider, mode === 'require');
}
