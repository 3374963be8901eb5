// The rate limits' settings (server-wide, in sibyl.yaml): token buckets per principal (the
// authenticated caller) and per target (the model or endpoint name a request calls), kept in
// this process or in a Redis that replicas share. Off unless a limit is set.
import Type, { type Static } from 'typebox';

export const RATE_LIMIT_BACKENDS = ['memory', 'redis'] as const;

const bucket = (description: string) =>
  Type.Object(
    {
      ratePerSecond: Type.Number({
        minimum: 0.001,
        maximum: 1_000_000,
        description: 'Requests per second sustained: the rate the bucket refills at (fractions allowed: 0.5 is one request every 2 s).',
      }),
      burst: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Most requests taken at once after a quiet spell: the size of the bucket.' }),
    },
    { additionalProperties: false, description },
  );

export const BucketLimitSchema = bucket('A token bucket.');

export const RateLimitsSchema = Type.Object(
  {
    backend: Type.Enum(RATE_LIMIT_BACKENDS, {
      default: 'memory',
      description:
        'Where the buckets live: memory (this process: each replica has the whole budget) or redis (shared by the replicas that name the same Redis and key prefix: one budget for all of them).',
    }),
    perPrincipal: Type.Optional(
      Type.Object(
        {
          default: Type.Optional(bucket('The bucket of each principal not listed in principals: every caller gets one of its own. Absent: principals not listed are not limited.')),
          anonymous: Type.Optional(
            bucket('The one bucket shared by every request without a principal (authentication off, or an entry that sets none). Absent: perPrincipal.default.'),
          ),
          principals: Type.Optional(
            Type.Record(Type.String({ minLength: 1 }), BucketLimitSchema, { description: "Buckets of named principals (an API key's name, a JWT subject, a certificate's subject), each {ratePerSecond, burst}, instead of perPrincipal.default." }),
          ),
        },
        { additionalProperties: false, description: 'Buckets per caller: a request takes a token from its principal\u2019s bucket.' },
      ),
    ),
    perTarget: Type.Optional(
      Type.Object(
        {
          default: Type.Optional(bucket('The bucket of each name not listed in targets. Absent: names not listed are not limited.')),
          targets: Type.Optional(
            Type.Record(Type.String({ minLength: 1 }), BucketLimitSchema, {
              description: 'Buckets of named models and endpoints, each {ratePerSecond, burst}, shared by all callers. A request counts against the name it calls (an endpoint\u2019s targets are not counted again).',
            }),
          ),
        },
        { additionalProperties: false, description: 'Buckets per model or endpoint: a request takes a token from the bucket of the name it calls.' },
      ),
    ),
    redisUrl: Type.String({ minLength: 1, default: 'redis://127.0.0.1:6379', description: 'redis: the server, e.g. redis://127.0.0.1:6379/0 (one server or primary: a request\u2019s buckets are updated by one script).' }),
    redisKeyPrefix: Type.String({ default: 'sibyl:ratelimit:', description: 'redis: prefix of every key; replicas with the same prefix share their budgets.' }),
    redisTimeoutMs: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 50,
      description:
        'redis: a decision that takes longer lets the request through (rate limits fail open) and marks the rate_limiter component degraded; while degraded, Redis is asked again at most once a second and requests pass meanwhile.',
    }),
  },
  {
    additionalProperties: false,
    description:
      'Rate limits: token buckets per principal and per model or endpoint, at the serving core (HTTP, TF Serving, gRPC and the embedding API alike; batch jobs are not limited). A request over a limit gets 429 RATE_LIMITED with Retry-After (gRPC: RESOURCE_EXHAUSTED with retry-after metadata). Off until a bucket is set. See docs/security.md.',
  },
);

export type RateLimitsConfig = Readonly<Static<typeof RateLimitsSchema>>;
export type BucketLimitConfig = Readonly<Static<typeof BucketLimitSchema>>;
