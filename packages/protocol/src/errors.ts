// The closed set of error codes and reasons shared by the server and its clients, with the one
// table that maps them to HTTP and gRPC statuses. Imports nothing; runs in Node and browsers.

/**
 * Canonical error codes, aligned with gRPC status codes. What transports understand: each maps
 * to exactly one HTTP status and one gRPC status in CODE_STATUS.
 */
export const ERROR_CODES = [
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'UNAUTHENTICATED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** gRPC status numbers (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/**
 * Code → HTTP status and gRPC status. Exhaustive by type. Where Triton and TF Serving disagree,
 * TF Serving's fuller mapping wins (Triton sends ALREADY_EXISTS and CANCELLED to 400).
 */
export const CODE_STATUS = {
  CANCELLED: { http: 499, grpc: GRPC_STATUS.CANCELLED },
  UNKNOWN: { http: 500, grpc: GRPC_STATUS.UNKNOWN },
  INVALID_ARGUMENT: { http: 400, grpc: GRPC_STATUS.INVALID_ARGUMENT },
  DEADLINE_EXCEEDED: { http: 504, grpc: GRPC_STATUS.DEADLINE_EXCEEDED },
  NOT_FOUND: { http: 404, grpc: GRPC_STATUS.NOT_FOUND },
  ALREADY_EXISTS: { http: 409, grpc: GRPC_STATUS.ALREADY_EXISTS },
  PERMISSION_DENIED: { http: 403, grpc: GRPC_STATUS.PERMISSION_DENIED },
  RESOURCE_EXHAUSTED: { http: 429, grpc: GRPC_STATUS.RESOURCE_EXHAUSTED },
  FAILED_PRECONDITION: { http: 400, grpc: GRPC_STATUS.FAILED_PRECONDITION },
  ABORTED: { http: 409, grpc: GRPC_STATUS.ABORTED },
  OUT_OF_RANGE: { http: 400, grpc: GRPC_STATUS.OUT_OF_RANGE },
  UNIMPLEMENTED: { http: 501, grpc: GRPC_STATUS.UNIMPLEMENTED },
  INTERNAL: { http: 500, grpc: GRPC_STATUS.INTERNAL },
  UNAVAILABLE: { http: 503, grpc: GRPC_STATUS.UNAVAILABLE },
  UNAUTHENTICATED: { http: 401, grpc: GRPC_STATUS.UNAUTHENTICATED },
} as const satisfies Record<ErrorCode, { http: number; grpc: number }>;

/**
 * Fine-grained, stable reasons: what humans, docs and dashboards use. Each belongs to one code;
 * a reason may refine the HTTP status where HTTP has a more precise one (413 for a body over
 * the limit). Retired reasons are never reused.
 */
export const REASONS = {
  // INVALID_ARGUMENT: the request is malformed or does not fit the model.
  MALFORMED_REQUEST: { code: 'INVALID_ARGUMENT', summary: 'the request body is not valid JSON or not an inference request' },
  UNSUPPORTED_CONTENT_ENCODING: { code: 'INVALID_ARGUMENT', summary: 'the request body has a Content-Encoding other than gzip, deflate or identity', httpStatus: 415 },
  INPUT_MISSING: { code: 'INVALID_ARGUMENT', summary: 'an input the model needs is absent from the request' },
  INPUT_UNKNOWN: { code: 'INVALID_ARGUMENT', summary: 'the request names an input the model does not have' },
  INPUT_DUPLICATE: { code: 'INVALID_ARGUMENT', summary: 'the request names the same input twice' },
  INPUT_DATATYPE_MISMATCH: { code: 'INVALID_ARGUMENT', summary: "an input's datatype is not the one the model expects" },
  INPUT_SHAPE_MISMATCH: { code: 'INVALID_ARGUMENT', summary: "an input's shape does not fit the model's shape" },
  INPUT_DATA_MISMATCH: { code: 'INVALID_ARGUMENT', summary: "an input's data does not match its shape or datatype (count, value type or range)" },
  INPUT_BATCH_MISMATCH: { code: 'INVALID_ARGUMENT', summary: 'inputs disagree on the batch size' },
  OUTPUT_UNKNOWN: { code: 'INVALID_ARGUMENT', summary: 'the request asks for an output the model does not have' },
  CLASSIFICATION_INVALID: { code: 'INVALID_ARGUMENT', summary: "an output's classification parameter is not a positive count, or the output is not numeric" },
  PARAMETER_INVALID: { code: 'INVALID_ARGUMENT', summary: 'a request parameter has a value of the wrong type or range' },
  BYTES_NOT_TEXT: { code: 'INVALID_ARGUMENT', summary: 'BYTES data that is not valid UTF-8 was asked for as JSON, which carries BYTES as text only; ask for binary data (binary_data_output) instead' },
  REQUEST_LIMIT_EXCEEDED: { code: 'INVALID_ARGUMENT', summary: 'the request has more inputs, outputs, parameters, shape dimensions or name characters than the protocol accepts' },
  INVALID_VERSION: { code: 'INVALID_ARGUMENT', summary: 'a version in the path is neither a positive integer nor a label name' },
  LABEL_INVALID: { code: 'INVALID_ARGUMENT', summary: 'a label name is not valid, or a label is set to a version that cannot serve' },
  STATE_INVALID: { code: 'INVALID_ARGUMENT', summary: 'a state snapshot to restore is not one that sibyl snapshot writes' },
  INPUT_REJECTED_BY_MODEL: {
    code: 'INVALID_ARGUMENT',
    summary: "the model failed on this request's input values (an index out of range, say) when it ran alone, while it answers other requests",
  },
  JSON_TOO_DEEP: { code: 'INVALID_ARGUMENT', summary: 'a JSON body nests arrays and objects deeper than the limit' },
  PATH_TOO_LONG: { code: 'INVALID_ARGUMENT', summary: 'a part of the URL path (a name or key) is longer than the limit', httpStatus: 414 },
  // NOT_FOUND
  MODEL_NOT_FOUND: { code: 'NOT_FOUND', summary: 'no model of that name is in the repository' },
  VERSION_NOT_FOUND: { code: 'NOT_FOUND', summary: 'the model has no such version' },
  LABEL_NOT_FOUND: { code: 'NOT_FOUND', summary: 'the model has no such label' },
  ENDPOINT_NOT_FOUND: { code: 'NOT_FOUND', summary: 'no endpoint of that name is configured' },
  FEEDBACK_UNMATCHED: { code: 'NOT_FOUND', summary: 'outcome feedback names a request the endpoint did not answer recently, or one that has its outcome already' },
  ROUTE_NOT_FOUND: { code: 'NOT_FOUND', summary: 'no endpoint of the API has that method and path' },
  // RESOURCE_EXHAUSTED
  BODY_TOO_LARGE: { code: 'RESOURCE_EXHAUSTED', summary: 'the request body is larger than the configured limit', httpStatus: 413 },
  HEADERS_TOO_LARGE: { code: 'RESOURCE_EXHAUSTED', summary: "the request's headers are larger than the server's limit", httpStatus: 431 },
  QUEUE_FULL: { code: 'RESOURCE_EXHAUSTED', summary: "the model's queue is full" },
  RESIDENCY_EXHAUSTED: { code: 'RESOURCE_EXHAUSTED', summary: 'the version cannot be loaded within the memory budget or the limit of loaded models' },
  // FAILED_PRECONDITION: the operation does not fit the server's or the model's state.
  MODEL_CONTROL_DISABLED: { code: 'FAILED_PRECONDITION', summary: 'loading and unloading through the API needs --model-control-mode explicit' },
  MODEL_LOAD_FAILED: { code: 'FAILED_PRECONDITION', summary: 'the model could not be loaded (its files or config are broken)' },
  ROLLBACK_UNAVAILABLE: { code: 'FAILED_PRECONDITION', summary: 'the label has no earlier target to roll back to' },
  ENDPOINT_ACTION_INVALID: { code: 'FAILED_PRECONDITION', summary: "the action does not apply to the endpoint's traffic policy or its state" },
  ENDPOINT_INVALID: { code: 'INVALID_ARGUMENT', summary: 'an endpoint configuration is not valid' },
  // Batch jobs (issue 8, core): the job's source.
  BATCH_SOURCE_INVALID: { code: 'INVALID_ARGUMENT', summary: "a batch job's source cannot be read, or lacks the columns the job maps" },
  // UNAVAILABLE
  MODEL_NOT_READY: { code: 'UNAVAILABLE', summary: 'the model is loading, unloading or failed to load' },
  SERVER_STARTING: { code: 'UNAVAILABLE', summary: 'the server is still loading its models' },
  SERVER_DRAINING: { code: 'UNAVAILABLE', summary: 'the server is shutting down and takes no new requests' },
  BODY_BUDGET_EXHAUSTED: { code: 'UNAVAILABLE', summary: 'the server holds as many request body bytes as its budget allows (http.inflightBodyBytes); retry after Retry-After' },
  // DEADLINE_EXCEEDED / CANCELLED
  DEADLINE_EXCEEDED: { code: 'DEADLINE_EXCEEDED', summary: "the request's deadline passed before it was answered" },
  REQUEST_TIMEOUT: { code: 'DEADLINE_EXCEEDED', summary: 'the client did not send the whole request (headers and body) within the server\'s receive timeouts', httpStatus: 408 },
  REQUEST_CANCELLED: { code: 'CANCELLED', summary: 'the client went away or cancelled the request' },
  // UNIMPLEMENTED
  NOT_SUPPORTED: { code: 'UNIMPLEMENTED', summary: 'the request asks for a feature of the protocol this server does not implement' },
  // Batch operations (issue 8, ops): jobs in the server, schedules, distributed runs.
  BATCH_JOB_INVALID: { code: 'INVALID_ARGUMENT', summary: 'a batch job spec or job file is not valid, or cannot be read' },
  BATCH_JOB_NOT_FOUND: { code: 'NOT_FOUND', summary: 'no batch job has that id in the prediction store' },
  BATCH_JOB_RUNNING: { code: 'ALREADY_EXISTS', summary: 'the batch job is running already' },
  BATCH_JOB_NOT_RUNNING: { code: 'FAILED_PRECONDITION', summary: 'the batch job has finished already (or never ran in this server) and cannot be cancelled' },
  BATCH_CHUNK_FAILED: { code: 'UNAVAILABLE', summary: 'a chunk of a distributed batch job failed on every attempt its workers made' },
  // INTERNAL: the server's fault, never the user's.
  RUNTIME_FAILED: { code: 'INTERNAL', summary: 'the runtime failed while executing the model' },
  INSTANCE_CRASHED: { code: 'INTERNAL', summary: 'the worker running the model instance died; it is being replaced' },
  INTERNAL_ERROR: { code: 'INTERNAL', summary: 'an unexpected error in the server' },
  // Stored predictions (batch jobs' prediction store, lookups, hybrid endpoints).
  PREDICTION_NOT_FOUND: { code: 'NOT_FOUND', summary: 'no stored prediction of the model has that key (or none young enough, for a hybrid endpoint), and nothing else could answer' },
  LOOKUP_INVALID: { code: 'INVALID_ARGUMENT', summary: 'a prediction lookup is not {"keys": [...]} with string keys, or asks for more keys than the limit' },
  PREDICTION_KEY_MISSING: { code: 'INVALID_ARGUMENT', summary: "a request to a hybrid endpoint carries neither the endpoint's key nor inputs to predict from" },
  PREDICTION_STORE_UNAVAILABLE: { code: 'UNAVAILABLE', summary: 'the prediction store could not be read or written (down, a full disk); retry later' },
  STATE_STORE_UNAVAILABLE: { code: 'UNAVAILABLE', summary: 'the state store could not be read or written (a full disk, an I/O error); a change was not made' },
  // Client side: the server's answer could not be read.
  MALFORMED_RESPONSE: { code: 'INTERNAL', summary: 'the response body is not valid JSON or not an inference response' },
} as const satisfies Record<string, { code: ErrorCode; summary: string; httpStatus?: number }>;

export type ErrorReason = keyof typeof REASONS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

export function isErrorReason(value: unknown): value is ErrorReason {
  return typeof value === 'string' && Object.hasOwn(REASONS, value);
}

/** The HTTP status for an error: the reason's refinement if it has one, else its code's. */
export function httpStatusOf(code: ErrorCode, reason?: ErrorReason): number {
  const refined = reason === undefined ? undefined : (REASONS[reason] as { httpStatus?: number }).httpStatus;
  return refined ?? CODE_STATUS[code].http;
}

export function grpcStatusOf(code: ErrorCode): number {
  return CODE_STATUS[code].grpc;
}

/** Reverse map for clients: the code an HTTP status most likely carries when a body has none. */
export function codeOfHttpStatus(status: number): ErrorCode {
  if (status === 413 || status === 431) return 'RESOURCE_EXHAUSTED';
  if (status === 408) return 'DEADLINE_EXCEEDED';
  if (status === 415) return 'INVALID_ARGUMENT';
  for (const code of ERROR_CODES) if (CODE_STATUS[code].http === status) return code;
  return status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
}

/** The V2 REST error body: `error` is the spec's field; `code` and `reason` are Sibyl's additions. */
export interface ErrorBody {
  error: string;
  code?: ErrorCode;
  reason?: ErrorReason;
}

/**
 * The one error type of Sibyl, on the server and in clients. `code` is derived from `reason`,
 * so the two can never disagree. Across threads or the wire, recognise errors by `code` and
 * `reason`, not by prototype.
 */
export class SibylError extends Error {
  readonly code: ErrorCode;
  readonly reason: ErrorReason;
  readonly details: Record<string, unknown> | undefined;

  constructor(reason: ErrorReason, message: string, options?: { details?: Record<string, unknown>; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SibylError';
    this.reason = reason;
    this.code = REASONS[reason].code;
    this.details = options?.details;
  }

  get httpStatus(): number {
    return httpStatusOf(this.code, this.reason);
  }

  toBody(): ErrorBody {
    return { error: this.message, code: this.code, reason: this.reason };
  }
}
