// What bounds the HTTP server's input before any route runs: how long a client may take to send
// a request, how long an idle connection stays, how long a path parameter may be, and the one
// error body for what Node's HTTP parser and Fastify's router refuse themselves (timeouts,
// oversized headers, over-long path parameters, malformed URLs).
import { STATUS_CODES, type IncomingMessage, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { constrainedMemory } from 'node:process';
import { totalmem } from 'node:os';
import { MAX_REQUEST_ID_LENGTH, SibylError } from '@sibyl/protocol';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { bodyCostBytes, JSON_BODY } from '../../serving/frontend-vocabulary.ts';
import { sendError } from './errors.ts';

/** The HTTP limits, resolved (see http.* in the server configuration). */
export interface HttpLimits {
  bodyLimitBytes: number;
  /** Memory bodies may cost at once (see BodyBudget, core/body-cost.ts). */
  inflightBodyBytes: number;
  headersTimeoutMs: number;
  requestReceiveTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Largest size a compressed body may inflate to (http.maxInflatedBodyBytes); bodyLimitBytes when absent. */
  maxInflatedBodyBytes?: number;
  /** Largest request head (http.maxHeaderBytes); Node's default, 16 KiB, when absent. */
  maxHeaderBytes?: number;
}

/**
 * Longest path parameter (a model, version, label, endpoint or job id, a prediction key), in
 * characters as they appear in the URL (percent-encoded). Fastify's default, 100, made longer
 * names unaddressable; stored-prediction keys are often composite (tenant:entity:date…).
 */
export const MAX_PATH_PARAMETER_LENGTH = 1024;

/** Node's own limit on a request head (--max-http-header-size), when http.maxHeaderBytes is not given. */
export const DEFAULT_MAX_HEADER_BYTES = 16_384;

/** Memory the process may use: its cgroup limit when it has one, else the machine's RAM. */
export function availableMemoryBytes(): number {
  const limit = constrainedMemory?.() ?? 0;
  const ram = totalmem();
  return limit > 0 && limit < ram ? limit : ram;
}

/**
 * Share of the process's memory the body budget gets by default. The budget counts what bodies
 * cost in memory (core/body-cost.ts), so this is the most request bodies may take together: 1/16
 * (6 %) leaves the rest to the models, their instances and Node, which are what a model server's
 * memory is for. On 24 GiB that is 1.5 GiB: one 60 MB JSON request at a time (840 MB), the others
 * refused with 503 and Retry-After until it is answered; about 12 binary ones of that size.
 */
export const DEFAULT_BUDGET_SHARE = 16;

/**
 * The http settings with the body budget's default filled in: memory / 16, at least the cost of
 * one largest JSON body (so one can always be admitted when the server is idle; the configuration
 * refuses a smaller explicit budget).
 */
export function resolveHttpLimits(
  http: { bodyLimitBytes: number; inflightBodyBytes?: number; headersTimeoutMs: number; requestReceiveTimeoutMs: number; keepAliveTimeoutMs: number; maxHeaderBytes?: number; maxInflatedBodyBytes?: number },
  memoryBytes: number,
): HttpLimits {
  const inflightBodyBytes = http.inflightBodyBytes ?? Math.max(bodyCostBytes(http.bodyLimitBytes, JSON_BODY), Math.floor(memoryBytes / DEFAULT_BUDGET_SHARE));
  return {
    bodyLimitBytes: http.bodyLimitBytes,
    inflightBodyBytes,
    headersTimeoutMs: http.headersTimeoutMs,
    requestReceiveTimeoutMs: http.requestReceiveTimeoutMs,
    keepAliveTimeoutMs: http.keepAliveTimeoutMs,
    ...(http.maxHeaderBytes === undefined ? {} : { maxHeaderBytes: http.maxHeaderBytes }),
    ...(http.maxInflatedBodyBytes === undefined ? {} : { maxInflatedBodyBytes: http.maxInflatedBodyBytes }),
  };
}

/**
 * How often Node looks for connections past their headers or request timeout. Node's default is
 * every 30 s, which would let a 10 s timeout run to 40 s: check often enough that a timeout is
 * late by at most a quarter of itself (and at most 1 s).
 */
export function connectionsCheckingIntervalMs(limits: Pick<HttpLimits, 'headersTimeoutMs' | 'requestReceiveTimeoutMs'>): number {
  return Math.max(10, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestReceiveTimeoutMs) / 4)));
}

/** The SibylError for what Node's HTTP parser refused on a connection (its 'clientError'). */
export function clientErrorOf(err: { code?: string; message: string }, limits: Pick<HttpLimits, 'headersTimeoutMs' | 'requestReceiveTimeoutMs' | 'maxHeaderBytes'>): SibylError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new SibylError(
      'REQUEST_TIMEOUT',
      `the request was not received in time: its headers must arrive within ${limits.headersTimeoutMs} ms (http.headersTimeoutMs) and the whole request within ${limits.requestReceiveTimeoutMs} ms (http.requestReceiveTimeoutMs); a stalled or slow upload, or a server too busy to read it — retry, or raise the limits`,
    );
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    const limit = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    return new SibylError('HEADERS_TOO_LARGE', `the request's headers are larger than the server's limit of ${limit} bytes (http.maxHeaderBytes); send fewer or shorter headers`, { details: { limit } });
  }
  return new SibylError('MALFORMED_REQUEST', `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'}); check the client`);
}

/** A complete HTTP/1.1 response carrying `error`, for writing to a socket with no response object. */
export function rawErrorResponse(error: SibylError): string {
  const body = JSON.stringify(error.toBody());
  const status = error.httpStatus;
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

type ResponseSocket = Socket & { _httpMessage?: { headersSent?: boolean } };

/**
 * A request's id for logs, traces and the prediction log: its X-Request-Id when that is at most
 * MAX_REQUEST_ID_LENGTH (the protocol's: as long as a body's `id` may be) printable ASCII
 * characters, else one made here (`req-1`, `req-2`, … as Fastify makes them): a client cannot
 * put 16 KiB into every log line of its request.
 */
export function requestIdGenerator(): (request: IncomingMessage) => string {
  let next = 0;
  return (request) => {
    const header = request.headers['x-request-id'];
    if (typeof header === 'string' && header !== '' && header.length <= MAX_REQUEST_ID_LENGTH && PRINTABLE.test(header)) return header;
    next = (next + 1) & 0x7fffffff;
    return `req-${next.toString(36)}`;
  };
}

const PRINTABLE = /^[\x21-\x7e]+$/;

/**
 * Fastify's options for the limits: Node's timeouts (set on the server before it listens), the
 * body size limit (the body budget is installBodyIntake's), the path parameter length, and
 * handlers that answer the parser's and router's refusals with the project's error body instead
 * of Fastify's.
 */
export function limitOptions(limits: Omit<HttpLimits, 'inflightBodyBytes'>): {
  bodyLimit: number;
  keepAliveTimeout: number;
  requestTimeout: number;
  http: ServerOptions;
  routerOptions: { maxParamLength: number };
  requestIdHeader: false;
  genReqId: (request: IncomingMessage) => string;
  clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => void;
  frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => FastifyReply;
} {
  return {
    bodyLimit: limits.bodyLimitBytes,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestReceiveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestReceiveTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(limits),
      ...(limits.maxHeaderBytes === undefined ? {} : { maxHeaderSize: limits.maxHeaderBytes }),
    },
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    requestIdHeader: false,
    genReqId: requestIdGenerator(),
    // Like Node's own answer: only when no response has started on the socket; then close it.
    clientErrorHandler(err: Error & { code?: string }, socket: Socket) {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const response = (socket as ResponseSocket)._httpMessage;
      if (socket.writable && response?.headersSent !== true) socket.write(rawErrorResponse(clientErrorOf(err, limits)));
      socket.destroy(err);
    },
    frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
      return sendError(reply, frameworkErrorOf(err, request.url));
    },
  };
}

/** Fastify's router refusals (an over-long path parameter, a URL that does not decode) as SibylErrors. */
export function frameworkErrorOf(err: FastifyError, url: string): SibylError {
  const path = url.split('?')[0] ?? '';
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return new SibylError(
      'PATH_TOO_LONG',
      `a part of the path ${JSON.stringify(path.slice(0, 80))}… is longer than ${MAX_PATH_PARAMETER_LENGTH} characters; model, version, label, endpoint and job names and prediction keys may have at most ${MAX_PATH_PARAMETER_LENGTH} (percent-encoded) — look up longer keys with POST /v1/predictions/{model}/lookup`,
    );
  }
  if (err.code === 'FST_ERR_BAD_URL') {
    return new SibylError('MALFORMED_REQUEST', `the path ${JSON.stringify(path.slice(0, 200))} is not a valid URL path (a % not followed by two hex digits, or not UTF-8); percent-encode names`);
  }
  return new SibylError('MALFORMED_REQUEST', err.message);
}
