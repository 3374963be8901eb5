// The `tls` section of sibyl.yaml: TLS for every listener (HTTP, metrics, gRPC) from PEM files,
// reloaded when they change, and optional client certificates (mTLS) whose identity can be a
// principal. A relative path in sibyl.yaml is relative to the file's folder; from a flag or an
// environment variable, to the working directory.
import Type from 'typebox';
import type { ConfigProblem } from './validate.ts';
import { FIXED_SCOPES } from '../core/scopes.ts';

/** Whether a configuration may grant `scope`: one of FIXED_SCOPES or `infer:<model or endpoint>`. */
const isScope = (scope: string): boolean => (FIXED_SCOPES as readonly string[]).includes(scope) || /^infer:.+$/.test(scope);

export const CLIENT_CERTIFICATE_MODES = ['none', 'request', 'require'] as const;
export type ClientCertificateMode = (typeof CLIENT_CERTIFICATE_MODES)[number];

export const TlsConfigSchema = Type.Object(
  {
    certFile: Type.Optional(
      Type.String({ minLength: 1, description: "PEM file of the server's certificate chain (leaf first). Set: every listener (HTTP, metrics, gRPC) speaks TLS only. Absent: no TLS." }),
    ),
    keyFile: Type.Optional(Type.String({ minLength: 1, description: "PEM file of the certificate's private key (unencrypted). Needed with certFile." })),
    caFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA certificates client certificates are verified against. Needed unless clientCertificates is none.' })),
    clientCertificates: Type.Enum(CLIENT_CERTIFICATE_MODES, {
      default: 'none',
      description:
        'Client certificates (mTLS). none: not asked for. request: asked for and verified against caFile when sent; a connection without one (or with one that does not verify) is accepted, but only a verified certificate gives an identity. require: a connection without a certificate caFile verifies is refused.',
    }),
    reloadIntervalMs: Type.Integer({
      minimum: 100,
      maximum: 3_600_000,
      default: 5000,
      description:
        'How often the PEM files are checked for changes, in ms. Changed files (written in place, renamed over, or a Kubernetes secret update) are read and, when valid, used for new connections without a restart; invalid ones are logged and the previous certificate stays.',
    }),
    clientPrincipals: Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 })), {
      default: {},
      description:
        "Scopes of the callers identified by a verified client certificate, by identity (the subject's CN, else its first URI, DNS or email SAN; '*': any verified certificate not named). A certificate whose identity is not here (and no '*') gives no principal. Only in sibyl.yaml.",
    }),
  },
  { additionalProperties: false, description: 'TLS for every listener from PEM files, reloaded on change; optional client certificates (mTLS).' },
);

/** The rules between the tls fields. */
export function tlsProblems(tls: { certFile?: string; keyFile?: string; caFile?: string; clientCertificates: ClientCertificateMode; clientPrincipals?: Readonly<Record<string, readonly string[]>> }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [identity, scopes] of Object.entries(tls.clientPrincipals ?? {})) {
    scopes.forEach((scope, i) => {
      if (!isScope(scope)) {
        problems.push({ path: `tls.clientPrincipals.${identity}[${i}]`, message: `${JSON.stringify(scope)} is not a scope; expected one of ${FIXED_SCOPES.join(', ')} or infer:<model or endpoint>` });
      }
    });
  }
  if (tls.certFile !== undefined && tls.keyFile === undefined) problems.push({ path: 'tls.keyFile', message: 'is missing; expected the private key file of tls.certFile' });
  if (tls.keyFile !== undefined && tls.certFile === undefined) problems.push({ path: 'tls.certFile', message: 'is missing; expected the certificate file of tls.keyFile' });
  if (tls.clientCertificates !== 'none') {
    if (tls.caFile === undefined) problems.push({ path: 'tls.caFile', message: `is missing; expected the CA file client certificates are verified against (tls.clientCertificates is ${tls.clientCertificates})` });
    if (tls.certFile === undefined) problems.push({ path: 'tls.certFile', message: `is missing; client certificates (tls.clientCertificates: ${tls.clientCertificates}) need TLS` });
  }
  return problems;
}
