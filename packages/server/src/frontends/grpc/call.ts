// What every gRPC handler shares: its dependencies, running one inference, and turning errors
// into statuses.
import { SibylError, decodeGrpcInferRequest, encodeGrpcInferResponse, isUnexpectedServerFault, type GrpcModelInferRequest, type GrpcModelInferResponse } from '@sibyl/protocol';
import type { Metadata } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import { UNTHROTTLED, grpcInferScope, requireScope, type AccessControl, type CancelToken, type KeyedLineWriter, type Principal } from '../../serving/frontend-vocabulary.ts';
import type { ModelsApi, ServingApi } from '../../serving/serving-api.ts';
import { withCallDeadline } from './deadline.ts';
import { asSibylError, grpcErrorOf } from './errors.ts';
import { checkDecoded } from './refused-message.ts';

export interface GrpcHandlerDeps {
  /** The serving core: names are endpoints or models; its infer() is the one request path. */
  core: ServingApi;
  /** The core's model control and status (core.models). */
  models: ModelsApi;
  log: Logger;
  /** Rate-limits the lines a caller can cause (failed calls); default: every line is written. */
  lineLimiter?: KeyedLineWriter;
  serverName: string;
  serverVersion: string;
  extensions: readonly string[];
  /** False while starting (models loading) and while draining. */
  isReady: () => boolean;
  /** True once shutdown began: every RPC but ServerLive and ServerReady gets UNAVAILABLE SERVER_DRAINING. */
  isDraining: () => boolean;
  /** mTLS: the principal of the client certificate the listener verified (absent without client certificates). */
  principalOf?: (certificate: PeerCertificate | undefined) => Principal | undefined;
  /** Authentication, scopes and the audit log; absent: every call open, nothing audited. */
  access?: AccessControl;
}

/** What a call carries besides its message: its start, its time left, its cancellation, its metadata. */
export interface CallFacts {
  /** Core clock time the call (a stream's message: its arrival) was received: the request's arrival. */
  arrivalMs: number;
  remainingMs: number | undefined;
  cancel: CancelToken;
  metadata: Metadata;
  /** The authenticated caller (callPrincipal); undefined when authentication is off. */
  principal?: Principal;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The caller of a call, from its metadata (`authorization: Bearer <key or token>` or
 * `x-api-key`, as over HTTP): synchronous for API keys, a promise for JWTs; undefined when
 * authentication is off.
 * @throws SibylError AUTHENTICATION_REQUIRED or CREDENTIALS_INVALID (UNAUTHENTICATED).
 */
export function callPrincipal(deps: GrpcHandlerDeps, metadata: Metadata, certificate?: PeerCertificate): Principal | undefined | Promise<Principal> {
  const authorization = text(metadata.get('authorization')[0]);
  const apiKey = text(metadata.get('x-api-key')[0]);
  // mTLS: a verified client certificate names the caller when the call carries no credentials.
  const certified = authorization === undefined && apiKey === undefined ? deps.principalOf?.(certificate) : undefined;
  const authenticator = deps.access?.authenticator;
  if (authenticator === undefined || !authenticator.enabled) return certified;
  if (certified !== undefined) return certified;
  return authenticator.authenticate({ authorization, apiKey });
}

/** Runs one inference call: decode, apply the call's remaining time, route and infer (cancelled by `cancel`), encode. */
export async function inferOne(deps: GrpcHandlerDeps, message: GrpcModelInferRequest, call: CallFacts): Promise<GrpcModelInferResponse> {
  if (deps.isDraining()) throw drainingError();
  checkDecoded(message);
  requireScope(call.principal, grpcInferScope(message.model_name));
  deps.core.onlineActivity.touch(performance.now());
  // Metadata stands for headers (sticky keys of split endpoints, traceparent and the like).
  const header = (name: string): string | undefined => {
    const value = call.metadata.get(name)[0];
    return typeof value === 'string' ? value : undefined;
  };
  const tracing = deps.core.observability.tracing;
  const span = tracing?.startRequestSpan('grpc ModelInfer', { traceparent: header('traceparent'), tracestate: header('tracestate') }, { 'rpc.system': 'grpc', 'rpc.method': 'ModelInfer', 'sibyl.model': message.model_name ?? '', 'sibyl.request_id': message.id ?? '' });
  // The one context of this request: its arrival is the call's start, for every latency the core reports.
  const context = deps.core.newContext('grpc', { requestId: message.id === '' ? undefined : message.id, arrivalMs: call.arrivalMs, signal: call.cancel, header, trace: span, principal: call.principal });
  try {
    let target;
    try {
      target = decodeGrpcInferRequest(message, { allowNoInputs: (model) => deps.core.answersByKey(model, { version: message.model_version }), elementLimits: deps.core.limits });
    } catch (err) {
      if (err instanceof SibylError) deps.core.rejected(message.model_name ?? '', { version: message.model_version }, err, context);
      throw err;
    }
    const request = withCallDeadline(target.request, call.remainingMs);
    const response = await deps.core.infer(target.model, { version: target.version }, request, context);
    if (span !== undefined) tracing!.endCallSpan(span, undefined);
    // Answer in kind: raw contents for raw requests (what Triton's clients send and read).
    return encodeGrpcInferResponse(response, { raw: target.raw });
  } catch (err) {
    if (span !== undefined) tracing!.endCallSpan(span, asSibylError(err));
    throw err;
  }
}

/** Logs unexpected server faults (the error table's: INTERNAL, UNKNOWN) with their cause, the rest by reason at debug; turns anything thrown into a gRPC status. */
export function failWith(deps: GrpcHandlerDeps, method: string, err: unknown) {
  const error = asSibylError(err);
  // Keyed by reason and method, never by the message: a caller repeating a failure writes at most
  // a burst of lines per window, then one summary (observability/logging/throttled-log.ts).
  const lines = deps.lineLimiter ?? UNTHROTTLED;
  if (isUnexpectedServerFault(error)) lines.write(deps.log, 'error', `grpc ${method} ${error.reason}`, { err: error.cause ?? error, method }, error.message);
  else lines.write(deps.log, 'debug', `grpc ${method} ${error.reason}`, { reason: error.reason, method }, error.message);
  return grpcErrorOf(error);
}

export function drainingError(): SibylError {
  return new SibylError('SERVER_DRAINING', 'the server is shutting down and takes no new requests; retry on another replica');
}
