// Keeps the TLS material of the `tls` section current without a restart. It polls: every
// reloadIntervalMs it stats the files (following symlinks) and, when one changed, reads and
// checks them all (tls-material.ts) and hands the new material to its listeners (the HTTP
// servers' setSecureContext, the gRPC certificate provider).
//
// Why polling and not fs.watch: a watch follows the inode it was opened on, so the usual way of
// replacing a certificate — write a new file and rename it over the old (and Kubernetes' secret
// volumes, which swap a symlinked folder) — is missed or ends the watch on Linux, and fs.watch's
// events differ by platform and file system (network mounts send none). A stat of three files
// every few seconds costs nothing, sees every kind of replacement, and bounds the delay.
//
// A change that does not check out (a half-written pair, a key that does not match, bad PEM) is
// logged once as an error and the previous material stays in use; the files are tried again when
// they change again. Nothing here throws after start-up.
import { stat as statFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { readTlsMaterial, TlsMaterialError, type ReadFile, type TlsFiles, type TlsMaterial } from './tls-material.ts';

export type StatFile = (path: string) => Promise<{ ino: number; size: number; mtimeMs: number; ctimeMs: number }>;

export interface TlsReloaderOptions {
  files: TlsFiles;
  /** Time between checks, in ms. */
  intervalMs: number;
  log: Logger;
  /** Test seams: default node:fs. */
  read?: ReadFile;
  stat?: StatFile;
}

export type TlsMaterialListener = (material: TlsMaterial) => void;

export class TlsReloader {
  private readonly listeners = new Set<TlsMaterialListener>();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<boolean> | undefined;

  private constructor(
    private readonly options: TlsReloaderOptions,
    private material: TlsMaterial,
    /** The files' stat signature the current material (or the last failed attempt) was read at. */
    private signature: string,
  ) {}

  /**
   * Reads and checks the files, then starts polling them.
   * @throws TlsMaterialError naming the unusable file (start-up refuses: see server.ts).
   */
  static async create(options: TlsReloaderOptions): Promise<TlsReloader> {
    const signature = await signatureOf(options.files, options.stat ?? statFile).catch(() => '');
    const material = await readTlsMaterial(options.files, options.read);
    const reloader = new TlsReloader(options, material, signature);
    reloader.timer = setInterval(() => void reloader.check(), options.intervalMs);
    reloader.timer.unref();
    return reloader;
  }

  /** The material in use. */
  get current(): TlsMaterial {
    return this.material;
  }

  /** Called with each new material that checked out (not with the current one). */
  onChange(listener: TlsMaterialListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * One poll (the timer calls it; tests may too): resolves true when new material was taken.
   * Concurrent calls share one check.
   */
  check(): Promise<boolean> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkOnce(): Promise<boolean> {
    const { files, log } = this.options;
    let signature: string;
    try {
      signature = await signatureOf(files, this.options.stat ?? statFile);
    } catch (err) {
      // A file missing for a moment (deleted, then written) is no change yet; a lasting one is logged once.
      const missing = `missing:${(err as NodeJS.ErrnoException).path ?? ''}`;
      if (this.signature !== missing) log.error({ err: (err as Error).message }, 'TLS: a certificate file cannot be read; the previous certificate stays in use');
      this.signature = missing;
      return false;
    }
    if (signature === this.signature) return false;
    this.signature = signature;
    let material: TlsMaterial;
    try {
      material = await readTlsMaterial(files, this.options.read);
    } catch (err) {
      const field = err instanceof TlsMaterialError ? err.field : undefined;
      log.error({ field }, `TLS: the changed certificate files are not usable (${(err as Error).message}); the previous certificate stays in use`);
      return false;
    }
    if (sameMaterial(material, this.material)) return false;
    this.material = material;
    log.info({ subject: material.subject, serialNumber: material.serialNumber, validTo: material.validTo }, 'TLS: new certificate in use for new connections');
    for (const listener of this.listeners) {
      try {
        listener(material);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'TLS: a listener refused the new certificate; it keeps the previous one');
      }
    }
    return true;
  }

  /** Stops polling. Idempotent. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

async function signatureOf(files: TlsFiles, stat: StatFile): Promise<string> {
  const paths = [files.certFile, files.keyFile, files.caFile].filter((p): p is string => p !== undefined);
  const stats = await Promise.all(paths.map((p) => stat(p)));
  return stats.map((s) => `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`).join('|');
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  const same = (x: Buffer | undefined, y: Buffer | undefined): boolean => (x === undefined ? y === undefined : y !== undefined && x.equals(y));
  return a.cert.equals(b.cert) && a.key.equals(b.key) && same(a.ca, b.ca);
}
