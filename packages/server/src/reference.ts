// What documentation generators and editors need from the server: the config schemas and the
// environment variables derived from them. Exported as `@sibyl/server/reference`.
export { EndpointConfigSchema } from './config/endpoint-config.ts';
export { ModelConfigSchema } from './config/model-config.ts';
export { ServerConfigFileSchema, ServerConfigSchema, serverEnvironmentVariables } from './config/server-config.ts';
