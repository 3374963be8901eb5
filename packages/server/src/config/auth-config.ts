// The security settings of sibyl.yaml that belong to authentication (issue 15): who may call
// (API keys, JWT), the audit log of management actions, and the management plane's own listener.
// Compiled with the server configuration (server-config.ts).
import Type, { type Static } from 'typebox';

/** What one API key may do, by its name (the principal id). */
export const ApiKeySchema = Type.Object(
  {
    sha256: Type.String({
      pattern: '^[0-9a-fA-F]{64}$',
      description: "Hex SHA-256 of the key (never the key itself): `sibyl auth hash-key` prints it. Keys are long random strings (`sibyl auth hash-key --new` makes one), so a plain digest is enough.",
    }),
    scopes: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'What the key may do: infer:<model or endpoint>, infer:*, read, features:push, batch:run, admin (admin implies every scope).',
    }),
  },
  { additionalProperties: false },
);

export const JwtConfigSchema = Type.Object(
  {
    secret: Type.Optional(Type.String({ minLength: 32, description: 'HS256 shared secret (at least 32 characters). Prefer SIBYL_AUTH_JWT_SECRET or auth.jwt.secretFile over the file.' })),
    secretFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the HS256 shared secret (trailing whitespace ignored), read at start.' })),
    jwksUrl: Type.Optional(
      Type.String({ pattern: '^https?://', description: "URL of the issuer's JSON Web Key Set (RS256, ES256 …): keys are fetched on demand, cached, and refetched when a token names an unknown key id (key rotation)." }),
    ),
    jwksCooldownMs: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 3_600_000, default: 30000, description: 'Least time between two fetches of the key set: a token naming an unknown key id fetches it again only this long after the last fetch.' }),
    ),
    issuer: Type.Optional(Type.String({ minLength: 1, description: 'Required `iss` of every token. Absent: not checked.' })),
    audience: Type.Optional(Type.String({ minLength: 1, description: 'Required `aud` of every token (one of them, when a list). Absent: not checked.' })),
    clockToleranceSec: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600, default: 30, description: 'Clock skew allowed when checking `exp` and `nbf`, in seconds.' })),
    scopeClaim: Type.Optional(
      Type.String({
        minLength: 1,
        default: 'scope',
        description: 'Claim that carries the scopes: a space-separated string (`scope`, OAuth 2) or an array of strings (`scp`, say).',
      }),
    ),
  },
  { additionalProperties: false, description: 'JWT bearer tokens (Authorization: Bearer <token>): HS256 with a shared secret, or keys from a JWKS URL. The principal is the `sub` claim.' },
);

export const AuthConfigSchema = Type.Object(
  {
    apiKeys: Type.Record(Type.String({ minLength: 1 }), ApiKeySchema, {
      default: {},
      description: 'API keys by name (the principal id logs and the audit log show), each with the SHA-256 of the key and its scopes.',
    }),
    apiKeysFile: Type.Optional(
      Type.String({ minLength: 1, description: 'YAML or JSON file with more API keys, in the form of auth.apiKeys (name: {sha256, scopes}), read at start.' }),
    ),
    jwt: Type.Optional(JwtConfigSchema),
  },
  {
    additionalProperties: false,
    description:
      'Authentication: callers send an API key (Authorization: Bearer <key>, or x-api-key: <key>) or a JWT (Authorization: Bearer <token>); gRPC callers the same names as metadata. With none configured, authentication is off (allowed only on a loopback host unless allowUnauthenticated). See docs/security.md.',
  },
);

export const AuditConfigSchema = Type.Object(
  {
    file: Type.Optional(Type.String({ minLength: 1, description: 'Also append each audit record to this JSON Lines file.' })),
  },
  { additionalProperties: false, default: {}, description: 'The audit log: one record per management action (who, what, target, when, result), as log lines with audit: true.' },
);

export const ManagementConfigSchema = Type.Object(
  {
    port: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 65535,
        description: 'Serve the management API (model control, endpoints, state, logging, batch jobs, stored and logged predictions) on this port only, on the same host; the main port then answers them 404. Absent: everything on the main port.',
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'The management plane.' },
);

export const ALLOW_UNAUTHENTICATED_DESCRIPTION =
  'Start on a non-loopback host with no authentication configured (anyone who reaches the port may load, unload and replace models). Logged as a warning at start and every hour.';

export type AuthConfig = Static<typeof AuthConfigSchema>;
export type JwtConfig = Static<typeof JwtConfigSchema>;
export type ApiKeyConfig = Static<typeof ApiKeySchema>;
