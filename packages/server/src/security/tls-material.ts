// Reads and checks the PEM files of the `tls` section: a certificate chain, its private key and
// optionally the CA bundle client certificates are verified against. Nothing reaches a listener
// unless it parses, the key matches the certificate, and Node builds a secure context from it —
// so a broken new file can never replace a working one (see tls-reloader.ts).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caFile?: string;
}

/** Checked PEM bytes, ready for `tls.createSecureContext` / `server.setSecureContext`. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  /** Of the leaf certificate, for log lines: never the key. */
  readonly subject: string;
  readonly serialNumber: string;
  readonly validTo: string;
}

/** One file of the section is unusable; `field` is its config path (`tls.keyFile`). The message never quotes the file. */
export class TlsMaterialError extends Error {
  constructor(
    readonly field: 'tls.certFile' | 'tls.keyFile' | 'tls.caFile',
    message: string,
  ) {
    super(message);
    this.name = 'TlsMaterialError';
  }
}

export type ReadFile = (path: string) => Promise<Buffer>;

async function readOne(field: TlsMaterialError['field'], path: string, read: ReadFile): Promise<Buffer> {
  try {
    return await read(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new TlsMaterialError(field, `${path} cannot be read (${code}); expected a readable PEM file`);
  }
}

/** Reads the files and checks them. @throws TlsMaterialError naming the first unusable file. */
export async function readTlsMaterial(files: TlsFiles, read: ReadFile = readFile): Promise<TlsMaterial> {
  const [cert, key, ca] = await Promise.all([
    readOne('tls.certFile', files.certFile, read),
    readOne('tls.keyFile', files.keyFile, read),
    files.caFile === undefined ? undefined : readOne('tls.caFile', files.caFile, read),
  ]);
  return checkTlsMaterial(files, cert, key, ca);
}

/** The checks of readTlsMaterial on bytes already read. */
export function checkTlsMaterial(files: TlsFiles, cert: Buffer, key: Buffer, ca: Buffer | undefined): TlsMaterial {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw new TlsMaterialError('tls.certFile', `${files.certFile} holds no PEM certificate; expected the server's certificate chain, leaf first`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new TlsMaterialError('tls.keyFile', `${files.keyFile} holds no unencrypted PEM private key`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsMaterialError('tls.keyFile', `${files.keyFile} is not the private key of the certificate in ${files.certFile}`);
  }
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch {
      throw new TlsMaterialError('tls.caFile', `${files.caFile} holds no PEM certificate; expected the CA certificates client certificates are verified against`);
    }
  }
  try {
    createSecureContext({ cert, key, ca });
  } catch (err) {
    const field = ca !== undefined && /ca|certificate authority/i.test((err as Error).message) ? 'tls.caFile' : 'tls.certFile';
    throw new TlsMaterialError(field, `${files.certFile}, ${files.keyFile}${ca === undefined ? '' : `, ${files.caFile}`} make no TLS context: ${(err as Error).message}`);
  }
  return { cert, key, ca, subject: leaf.subject.replace(/\n/g, ', '), serialNumber: leaf.serialNumber, validTo: leaf.validTo };
}
