// @sibyl/server as a library: embed the serving core in a Node application (docs/embedding.md).
export { createSibyl } from './embedded.ts';
export type { InferOptions, Sibyl, SibylOptions, SibylPluginOptions } from './embedded.ts';
export type { ModelsApi, EndpointsApi, ServingApi } from './serving/serving-api.ts';
export type { Principal, RequestContext } from './core/request-context.ts';
export { SibylError } from '@sibyl/protocol';
export type { InferRequest, InferResponse, Tensor } from '@sibyl/protocol';
