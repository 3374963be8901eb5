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

/** Whose doing an error is: the caller's (its request, or how it sent it) or the server's. */
export type Fault = 'caller' | 'server';

/**
 * What a caller's fault is about, where that matters to the server's own decisions:
 * - `input`: the request's contents (inputs, outputs, parameters). The same request fails on any
 *   server and any version: scheduling isolation blames the request, a batch job rejects the row.
 * - `target`: the model, version or label the request names does not exist. When the server
 *   chose the target (an endpoint's configured target), the fault is the server's.
 */
export type FaultSubject = 'input' | 'target';

/** How an error is classified: every decision that depends on whose fault it is derives from this. */
export interface ErrorClass {
  readonly fault: Fault;
  /**
   * Whether a client may send the same request again, unchanged and at once (after backoff), and
   * hope for another answer: the server did not run it (so a retry cannot run it twice) and the
   * condition is passing (overload, loading, draining, a lost connection).
   */
  readonly retriable: boolean;
  readonly subject?: FaultSubject;
}

/**
 * Code → classification. Exhaustive by type; a reason may refine it (REASONS). Follows gRPC's
 * status code guidance (https://grpc.github.io/grpc/core/md_doc_statuscodes.html: "use UNAVAILABLE
 * if the client can retry just the failing call, ABORTED if it should retry at a higher level,
 * FAILED_PRECONDITION if it should not retry until the system state has been explicitly fixed")
 * and Google's AIP-194, which retries UNAVAILABLE only. Triton's and KServe's clients retry
 * nothing by themselves; Sibyl's client retries what is `retriable` here.
 */
export const CODE_CLASS = {
  // The caller went away or gave up; nothing to retry, nothing held against the server.
  CANCELLED: { fault: 'caller', retriable: false },
  // An error the server could not classify: its own, and not known to pass.
  UNKNOWN: { fault: 'server', retriable: false },
  // The request does not fit the model or the protocol: sending it again fails again.
  INVALID_ARGUMENT: { fault: 'caller', retriable: false, subject: 'input' },
  // The server did not answer within the caller's deadline: slowness is the server's (it counts
  // against an endpoint's target and a canary). Not retriable: the server may have run the
  // request, and the client sends its deadline along, so by now the caller's time is spent.
  DEADLINE_EXCEEDED: { fault: 'server', retriable: false },
  // The caller named something the server does not have. A model that exists but is not loaded
  // yet is MODEL_NOT_READY (UNAVAILABLE, retriable), never NOT_FOUND, so NOT_FOUND means a typo or
  // a model not yet added to the repository: retrying does not help (as in Triton, whose unknown
  // model is a 400/NOT_FOUND).
  NOT_FOUND: { fault: 'caller', retriable: false },
  ALREADY_EXISTS: { fault: 'caller', retriable: false },
  PERMISSION_DENIED: { fault: 'caller', retriable: false },
  // The server is out of capacity (a full queue, the memory budget): the server's, and it passes.
  // A request too large for the limits is the caller's (reasons BODY_TOO_LARGE, HEADERS_TOO_LARGE).
  RESOURCE_EXHAUSTED: { fault: 'server', retriable: true },
  // The operation does not fit the server's state (a label with no earlier target, an action the
  // endpoint's policy lacks): 400, the caller's, not retriable until someone changes the state.
  // A model whose files are broken is the server's (reason MODEL_LOAD_FAILED).
  FAILED_PRECONDITION: { fault: 'caller', retriable: false },
  // A conflict with another operation: the caller retries at a higher level (gRPC), not at once.
  ABORTED: { fault: 'caller', retriable: false },
  OUT_OF_RANGE: { fault: 'caller', retriable: false, subject: 'input' },
  // The request asks for something this server does not do: the caller's, every time.
  UNIMPLEMENTED: { fault: 'caller', retriable: false },
  // A bug or a crash in the server or the model's runtime: the server's; a retry reaches the same
  // code (INSTANCE_CRASHED is retried inside the server already).
  INTERNAL: { fault: 'server', retriable: false },
  // The server cannot take the request now (loading, draining, a lost connection) and did not run
  // it: gRPC's one code to retry as it is.
  UNAVAILABLE: { fault: 'server', retriable: true },
  UNAUTHENTICATED: { fault: 'caller', retriable: false },
} as const satisfies Record<ErrorCode, ErrorClass>;

/**
 * A reason's entry: its code, and where it differs from its code's, a more precise HTTP status
 * and its own classification (`fault`, `retriable`, `subject` override CODE_CLASS).
 */
interface ReasonEntry {
  code: ErrorCode;
  summary: string;
  httpStatus?: number;
  fault?: Fault;
  retriable?: boolean;
  subject?: FaultSubject;
}

/**
 * Fine-grained, stable reasons: what humans, docs and dashboards use. Each belongs to one code;
 * a reason may refine the HTTP status where HTTP has a more precise one (413 for a body over
 * the limit), and its code's classification where it differs (a body too large is the caller's
 * fault, though RESOURCE_EXHAUSTED is mostly the server's). Retired reasons are never reused.
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
  REQUEST_LIMIT_EXCEEDED: { code: 'INVALID_ARGUMENT', summary: 'the request has more inputs, outputs, parameters, shape dimensions, name characters, tensor elements (per tensor or in all) or bytes in a BYTES element than the server accepts' },
  INVALID_VERSION: { code: 'INVALID_ARGUMENT', summary: 'a version in the path is neither a positive integer nor a label name' },
  LABEL_INVALID: { code: 'INVALID_ARGUMENT', summary: 'a label name is not valid, or a label is set to a version that cannot serve' },
  STATE_INVALID: { code: 'INVALID_ARGUMENT', summary: 'a state snapshot to restore is not one that sibyl snapshot writes' },
  // The caller's input (as its code says), though the runtime failed: isolation ran it alone and
  // the version answers other requests, so the values are at fault. Not retriable.
  INPUT_REJECTED_BY_MODEL: {
    code: 'INVALID_ARGUMENT',
    summary: "the model failed on this request's input values (an index out of range, say) when it ran alone, while it answers other requests",
  },
  JSON_TOO_DEEP: { code: 'INVALID_ARGUMENT', summary: 'a JSON body nests arrays and objects deeper than the limit' },
  PATH_TOO_LONG: { code: 'INVALID_ARGUMENT', summary: 'a part of the URL path (a name or key) is longer than the limit', httpStatus: 414 },
  // NOT_FOUND
  MODEL_NOT_FOUND: { code: 'NOT_FOUND', summary: 'no model of that name is in the repository', subject: 'target' },
  VERSION_NOT_FOUND: { code: 'NOT_FOUND', summary: 'the model has no such version', subject: 'target' },
  LABEL_NOT_FOUND: { code: 'NOT_FOUND', summary: 'the model has no such label', subject: 'target' },
  ENDPOINT_NOT_FOUND: { code: 'NOT_FOUND', summary: 'no endpoint of that name is configured' },
  FEEDBACK_UNMATCHED: { code: 'NOT_FOUND', summary: 'outcome feedback names a request the endpoint did not answer recently, or one that has its outcome already' },
  ROUTE_NOT_FOUND: { code: 'NOT_FOUND', summary: 'no endpoint of the API has that method and path' },
  // RESOURCE_EXHAUSTED
  // The caller's request is too large: the same request is refused again.
  BODY_TOO_LARGE: { code: 'RESOURCE_EXHAUSTED', summary: 'the request body is larger than the configured limit', httpStatus: 413, fault: 'caller', retriable: false },
  HEADERS_TOO_LARGE: { code: 'RESOURCE_EXHAUSTED', summary: "the request's headers are larger than the server's limit", httpStatus: 431, fault: 'caller', retriable: false },
  QUEUE_FULL: { code: 'RESOURCE_EXHAUSTED', summary: "the model's queue is full" },
  RESIDENCY_EXHAUSTED: { code: 'RESOURCE_EXHAUSTED', summary: 'the version cannot be loaded within the memory budget or the limit of loaded models' },
  // FAILED_PRECONDITION: the operation does not fit the server's or the model's state.
  MODEL_CONTROL_DISABLED: { code: 'FAILED_PRECONDITION', summary: 'loading and unloading through the API needs --model-control-mode explicit' },
  // The repository is the server's configuration: a broken model is the server's fault (it counts
  // against an endpoint's target, opens its breaker, lets a client's fallback answer).
  MODEL_LOAD_FAILED: { code: 'FAILED_PRECONDITION', summary: 'the model could not be loaded (its files or config are broken)', fault: 'server' },
  ROLLBACK_UNAVAILABLE: { code: 'FAILED_PRECONDITION', summary: 'the label has no earlier target to roll back to' },
  ENDPOINT_ACTION_INVALID: { code: 'FAILED_PRECONDITION', summary: "the action does not apply to the endpoint's traffic policy or its state" },
  ENDPOINT_INVALID: { code: 'INVALID_ARGUMENT', summary: 'an endpoint configuration is not valid' },
  // Batch jobs (issue 8, core): the job's source.
  BATCH_SOURCE_INVALID: { code: 'INVALID_ARGUMENT', summary: "a batch job's source cannot be read, or lacks the columns the job maps" },
  // UNAVAILABLE
  MODEL_NOT_READY: { code: 'UNAVAILABLE', summary: 'the model is loading, unloading or failed to load' },
  SERVER_STARTING: { code: 'UNAVAILABLE', summary: 'the server is still loading its models' },
  SERVER_DRAINING: { code: 'UNAVAILABLE', summary: 'the server is shutting down and takes no new requests' },
  BODY_BUDGET_EXHAUSTED: { code: 'UNAVAILABLE', summary: 'the memory the server lets request bodies take at once (http.inflightBodyBytes; a JSON body counts 14 times its size) is in use; retry after Retry-After' },
  // DEADLINE_EXCEEDED / CANCELLED
  DEADLINE_EXCEEDED: { code: 'DEADLINE_EXCEEDED', summary: "the request's deadline passed before it was answered" },
  // The caller was too slow to send; the server ran nothing, so sending again may get through
  // (HTTP's 408: "the client MAY repeat that request").
  REQUEST_TIMEOUT: { code: 'DEADLINE_EXCEEDED', summary: 'the client did not send the whole request (headers and body) within the server\'s receive timeouts', httpStatus: 408, fault: 'caller', retriable: true },
  REQUEST_CANCELLED: { code: 'CANCELLED', summary: 'the client went away or cancelled the request' },
  // UNIMPLEMENTED
  NOT_SUPPORTED: { code: 'UNIMPLEMENTED', summary: 'the request asks for a feature of the protocol this server does not implement' },
  // Batch operations (issue 8, ops): jobs in the server, schedules, distributed runs.
  BATCH_JOB_INVALID: { code: 'INVALID_ARGUMENT', summary: 'a batch job spec or job file is not valid, or cannot be read' },
  BATCH_JOB_NOT_FOUND: { code: 'NOT_FOUND', summary: 'no batch job has that id in the prediction store' },
  BATCH_JOB_RUNNING: { code: 'ALREADY_EXISTS', summary: 'the batch job is running already' },
  BATCH_JOB_QUEUE_FULL: { code: 'RESOURCE_EXHAUSTED', summary: 'as many batch jobs wait for a running slot as batch.maxQueuedJobs allows; retry after Retry-After' },
  BATCH_JOB_NOT_RUNNING: { code: 'FAILED_PRECONDITION', summary: 'the batch job has finished already (or never ran in this server) and cannot be cancelled' },
  // Retried by the workers already: another attempt now would fail the same way.
  BATCH_CHUNK_FAILED: { code: 'UNAVAILABLE', summary: 'a chunk of a distributed batch job failed on every attempt its workers made', retriable: false },
  // INTERNAL: the server's fault, never the user's.
  RUNTIME_FAILED: { code: 'INTERNAL', summary: 'the runtime failed while executing the model' },
  INSTANCE_CRASHED: { code: 'INTERNAL', summary: 'the worker running the model instance died; it is being replaced' },
  INTERNAL_ERROR: { code: 'INTERNAL', summary: 'an unexpected error in the server' },
  // Stored predictions (batch jobs' prediction store, lookups, hybrid endpoints).
  // About the caller's key, not the endpoint's target: the caller's.
  PREDICTION_NOT_FOUND: { code: 'NOT_FOUND', summary: 'no stored prediction of the model has that key (or none young enough, for a hybrid endpoint), and nothing else could answer' },
  LOOKUP_INVALID: { code: 'INVALID_ARGUMENT', summary: 'a prediction lookup is not {"keys": [...]} with string keys, or asks for more keys than the limit' },
  PREDICTION_KEY_MISSING: { code: 'INVALID_ARGUMENT', summary: "a request to a hybrid endpoint carries neither the endpoint's key nor inputs to predict from" },
  PREDICTION_STORE_UNAVAILABLE: { code: 'UNAVAILABLE', summary: 'the prediction store could not be read or written (down, a full disk); retry later' },
  STATE_STORE_UNAVAILABLE: { code: 'UNAVAILABLE', summary: 'the state store could not be read or written (a full disk, an I/O error); a change was not made' },
  // Security (issue 15): who calls, what it may do, how often, from where.
  AUTHENTICATION_REQUIRED: { code: 'UNAUTHENTICATED', summary: 'the request carries no credentials (an API key or a bearer token) and the server requires them' },
  CREDENTIALS_INVALID: { code: 'UNAUTHENTICATED', summary: "the credentials are not valid: an unknown API key, or a token whose signature, issuer, audience or validity time does not check" },
  SCOPE_MISSING: { code: 'PERMISSION_DENIED', summary: 'the caller is authenticated but lacks the scope the action needs' },
  RATE_LIMITED: { code: 'RESOURCE_EXHAUSTED', summary: "the caller's or the model's request rate is over its limit; retry after Retry-After", httpStatus: 429, fault: 'caller', retriable: true },
  ORIGIN_REFUSED: { code: 'PERMISSION_DENIED', summary: 'the request comes from a web page of an origin the server does not allow (a cross-site request)' },
  HOST_REFUSED: { code: 'PERMISSION_DENIED', summary: "the Host header names none of the server's configured names (DNS rebinding)", httpStatus: 421 },
  PATH_NOT_ALLOWED: { code: 'PERMISSION_DENIED', summary: "a file, folder or connection named over the network is outside the server's configured roots and connections" },
  NAME_INVALID: { code: 'INVALID_ARGUMENT', summary: 'a model, version, label or endpoint name is not allowed (empty, too long, a path separator, "." or "..", control characters)' },
  // A hard limit on the answer (limits.maxResponseBytes): the caller asked for more rows or outputs than one answer may carry.
  RESPONSE_TOO_LARGE: { code: 'INVALID_ARGUMENT', summary: "the model's answer is larger than the server sends for one request (limits.maxResponseBytes); send fewer rows per request" },
  ENDPOINT_SHADOWS_MODEL: { code: 'ALREADY_EXISTS', summary: "an endpoint would take the name of a model in the repository, and the configuration does not allow it (endpoints.<name>.replacesModel)" },
  // Client side: the server's answer could not be read.
  MALFORMED_RESPONSE: { code: 'INTERNAL', summary: 'the response body is not valid JSON or not an inference response' },
} as const satisfies Record<string, ReasonEntry>;

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

/**
 * The classification of an error: its reason's refinements over its code's. `reason` is optional
 * because other servers send a code only (the client then classifies by code).
 */
export function classOf(code: ErrorCode, reason?: ErrorReason): ErrorClass {
  const base: ErrorClass = CODE_CLASS[code];
  if (reason === undefined) return base;
  const r = REASONS[reason] as ReasonEntry;
  return {
    fault: r.fault ?? base.fault,
    retriable: r.retriable ?? base.retriable,
    ...((r.subject ?? base.subject) === undefined ? {} : { subject: r.subject ?? base.subject }),
  };
}

/** What an error carries that classifies it: a SibylError, a client's error, a decoded body. */
export interface Classifiable {
  readonly code: ErrorCode;
  readonly reason?: ErrorReason | undefined;
}

function classifiable(err: unknown): Classifiable | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const { code, reason } = err as { code?: unknown; reason?: unknown };
  if (!isErrorCode(code)) return undefined;
  return { code, reason: isErrorReason(reason) ? reason : undefined };
}

export function faultOf(code: ErrorCode, reason?: ErrorReason): Fault {
  return classOf(code, reason).fault;
}

/** Whether a client may send the request again as it is (see ErrorClass.retriable). */
export function isRetriable(code: ErrorCode, reason?: ErrorReason): boolean {
  return classOf(code, reason).retriable;
}

/**
 * Whether `err` is the server's fault. Anything that is not a classified error (a TypeError from
 * a bug, a runtime's raw exception) is the server's. `serverChoseTarget`: the request went to a
 * target the server picked (an endpoint's configured model), so a target that does not exist is
 * the server's fault too — it counts against the target, opens its breaker, rolls a canary back.
 */
export function isServerFault(err: unknown, options?: { serverChoseTarget?: boolean }): boolean {
  const e = classifiable(err);
  if (e === undefined) return true;
  const c = classOf(e.code, e.reason);
  return c.fault === 'server' || (options?.serverChoseTarget === true && c.subject === 'target');
}

/**
 * Whether `err` blames the request's contents (ErrorClass.subject 'input'): the same request
 * fails on any server and any version, whatever else runs with it.
 */
export function isInputFault(err: unknown): boolean {
  const e = classifiable(err);
  return e !== undefined && classOf(e.code, e.reason).subject === 'input';
}

/**
 * Whether `err` is an unexpected failure of the server: its fault, answered with HTTP 500
 * (INTERNAL, UNKNOWN: a bug, a crashed runtime) — what an operator must look at, so frontends log
 * it as an error with its cause. The server's expected conditions (overload, loading, draining,
 * deadlines, a model that failed to load, which its load already logged) and every caller fault
 * are logged quietly, by reason only.
 */
export function isUnexpectedServerFault(err: unknown): boolean {
  const e = classifiable(err);
  if (e === undefined) return true;
  return faultOf(e.code, e.reason) === 'server' && httpStatusOf(e.code, e.reason) === 500;
}

/** HTTP status → the one reason that refines its code to that status (413 BODY_TOO_LARGE, 408 REQUEST_TIMEOUT, …). */
const REASON_OF_HTTP_STATUS: ReadonlyMap<number, ErrorReason> = (() => {
  const byStatus = new Map<number, ErrorReason[]>();
  for (const [reason, entry] of Object.entries(REASONS) as [ErrorReason, ReasonEntry][]) {
    if (entry.httpStatus !== undefined) byStatus.set(entry.httpStatus, [...(byStatus.get(entry.httpStatus) ?? []), reason]);
  }
  return new Map([...byStatus].filter(([, reasons]) => reasons.length === 1).map(([status, [reason]]) => [status, reason!]));
})();

/**
 * Reverse map for clients: the reason an HTTP status names by itself when a body has none (another
 * server's, a proxy's): the one reason the table refines to that status, such as 413
 * BODY_TOO_LARGE or 408 REQUEST_TIMEOUT, whose classification differs from their code's.
 */
export function reasonOfHttpStatus(status: number): ErrorReason | undefined {
  return REASON_OF_HTTP_STATUS.get(status);
}

/** Reverse map for clients: the code an HTTP status most likely carries when a body has none. */
export function codeOfHttpStatus(status: number): ErrorCode {
  const reason = reasonOfHttpStatus(status);
  if (reason !== undefined) return REASONS[reason].code;
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
