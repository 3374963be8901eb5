// @sibyl/client: a typed client for Sibyl and any Open Inference Protocol (KServe V2) server.
// This entry point runs in Node and browsers (REST over fetch); gRPC (Node) is
// '@sibyl/client/grpc'. Explicit exports only.
export { SibylClient, inputBytes } from './client.ts';
export type { CallOptions, ClientOptions, InferOptions, ModelCallOptions } from './client.ts';
export type { CallLoopOptions } from './call-loop.ts';
export { BatchJobsApi, EndpointsApi, LoggingApi, ModelsApi, SibylManagement, StateApi } from './management/management.ts';
export type { ManagementOptions, PredictionLogQuery } from './management/management.ts';
export { ClientError, FALLBACK_CODES, RETRIABLE_CODES } from './errors.ts';
export type { ClientErrorDetails, Transport } from './errors.ts';
export { DEFAULT_RETRY, parseRetryAfter, resolveRetry, retryDelayMs } from './retry.ts';
export type { ResolvedRetry, RetryOptions } from './retry.ts';
export { RestTransport } from './rest/rest-transport.ts';
export type { RestTransportOptions } from './rest/rest-transport.ts';
export type { CallContext, InferenceTransport, InferWire } from './transport.ts';
export { outputOf } from './tensors.ts';
// The protocol's types, so applications need one import.
export type {
  BatchJobJson,
  BatchScheduleJson,
  CanaryAction,
  CanaryReportJson,
  EndpointReportJson,
  EndpointSummaryJson,
  FeedbackItemJson,
  FeedbackJson,
  LabelMoveJson,
  LabelRollbackJson,
  LogLevel,
  ModelLabelsJson,
  ModelStatusJson,
  ModelVersionJson,
  PredictionLogJson,
  PredictionLookupJson,
  StateSnapshotJson,
  StoredPredictionJson,
} from '@sibyl/protocol';
export type { Datatype, InferRequest, InferResponse, ModelMetadata, RepositoryIndexEntry, ServerMetadata, Tensor, TensorData, TensorMetadata } from '@sibyl/protocol';
