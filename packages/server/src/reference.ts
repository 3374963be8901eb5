// What documentation generators and editors need from the server: the config schemas and the
// environment variables derived from them, and the metrics catalogue. Exported as
// `@sibyl/server/reference`.
export { EndpointConfigSchema } from './config/endpoint-config.ts';
export { ModelConfigSchema } from './config/model-config.ts';
export { ServerConfigFileSchema, ServerConfigSchema, serverEnvironmentVariables } from './config/server-config.ts';
export { DURATION_BUCKETS_SECONDS, METRICS, PROCESS_METRIC_PREFIXES } from './observability/metrics/catalogue.ts';
export type { MetricDefinition } from './observability/metrics/catalogue.ts';
