// Request bodies in: every body is read here as raw bytes (inference requests are decoded by the
// protocol codecs straight into typed arrays, and binary tensor requests are not JSON at all),
// inflated when compressed, held within the body limit and the shared body budget, and refused
// early when its Content-Length already says it cannot fit.
import type { Readable } from 'node:stream';
import { SibylError } from '@sibyl/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BodyBudget, BodyHold } from './body-budget.ts';
import { bodyContentOf, bodyCostBytes, type BodyContent } from '../../serving/frontend-vocabulary.ts';
import { inflateRequestBody } from './content-encoding.ts';
import { bodyTooLarge, inflatedBodyTooLarge } from './errors.ts';
import type { HttpLimits } from './http-limits.ts';

const HOLD = Symbol('sibyl.bodyHold');
const REFUSED_UNREAD = Symbol('sibyl.refusedUnread');
type HeldRequest = FastifyRequest & { [HOLD]?: BodyHold; [REFUSED_UNREAD]?: true };
type Payload = Readable & { receivedEncodedLength?: number };

/** Seconds a client refused for the budget is asked to wait: bodies in flight finish in about that. */
const BUDGET_RETRY_AFTER_SECONDS = 1;

/** The refusal of a body whose cost (`cost` more bytes) does not fit; counted in the budget's refusals. */
export function budgetExhausted(budget: BodyBudget, cost: number, content: BodyContent): SibylError {
  budget.refusals[content.kind] += 1;
  const advice = content.kind === 'json' ? ' (a JSON body costs 14 times its size while it is decoded; the binary tensor extension 2 times)' : '';
  return new SibylError(
    'BODY_BUDGET_EXHAUSTED',
    `the server holds ${budget.held} bytes of memory for request bodies, and this ${content.kind} body needs ${cost} more, past its budget of ${budget.limitBytes} (http.inflightBodyBytes); retry after ${BUDGET_RETRY_AFTER_SECONDS} s or on another replica, or send smaller bodies${advice}`,
    { details: { retryAfterSeconds: BUDGET_RETRY_AFTER_SECONDS } },
  );
}

/** Installs the body parser for every content type, the inflation of compressed bodies and the budget. */
export function installBodyIntake(app: FastifyInstance, limits: Pick<HttpLimits, 'bodyLimitBytes' | 'inflightBodyBytes' | 'maxInflatedBodyBytes'>): BodyBudget {
  const budget = new BodyBudget(limits.inflightBodyBytes);
  app.removeAllContentTypeParsers();
  const inflatedLimitBytes = Math.min(limits.bodyLimitBytes, limits.maxInflatedBodyBytes ?? limits.bodyLimitBytes);
  app.addContentTypeParser('*', (request, payload, done) => collectBody(request, payload as Payload, limits.bodyLimitBytes, inflatedLimitBytes, budget, done));

  // Callback-style hook: an async hook costs a promise per request on the hot path. A request
  // with a body holds budget until its answer is sent or its connection closes.
  app.addHook('preParsing', (request, reply, payload, done) => {
    const { headers } = request;
    if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) return done(null, payload);
    const hold = new BodyHold(budget);
    (request as HeldRequest)[HOLD] = hold;
    reply.raw.once('close', () => hold.release());
    if (headers['content-encoding'] === undefined) return done(null, payload);
    inflateRequestBody(request, payload).then((inflated) => done(null, inflated), done);
  });

  return budget;
}

/**
 * Called by the error handler (errors only: no hook on every request). Fastify answers every
 * parser error with Connection: close, and Node then destroys the socket while the client may
 * still be uploading: the client sees EPIPE or ECONNRESET (undici's fetch does) instead of the 503
 * it should retry. A body refused for the budget before any of it was read is instead left to
 * Node, which reads and discards the rest of it (at most http.bodyLimitBytes, within
 * http.requestReceiveTimeoutMs, holding nothing) and keeps the connection: the client finishes
 * its upload and reads the 503.
 */
export function keepConnectionOfUnreadRefusal(request: FastifyRequest, reply: FastifyReply): void {
  if ((request as HeldRequest)[REFUSED_UNREAD] === true) reply.removeHeader('connection');
}

/**
 * Reads the (inflated) body into one Buffer. A body of known length that is not compressed is
 * written into one buffer of that length as it arrives (no list of chunks copied again at the
 * end). Errors: BODY_TOO_LARGE, BODY_BUDGET_EXHAUSTED, MALFORMED_REQUEST (length mismatch, a
 * broken stream).
 */
function collectBody(request: FastifyRequest, payload: Payload, limitBytes: number, inflatedLimitBytes: number, budget: BodyBudget, done: (err: Error | null, body?: Buffer) => void): void {
  const declared = Number(request.headers['content-length']);
  // The preParsing hook gave every request with a body its hold; Fastify parses no other.
  const hold = (request as HeldRequest)[HOLD] ?? new BodyHold(new BodyBudget(Number.MAX_SAFE_INTEGER));
  if (declared > limitBytes) return done(bodyTooLarge(limitBytes));
  const content = bodyContentOf(request.headers);
  // A known length takes the body's whole cost before it is read (for a compressed body, the
  // cost of what is sent: the inflated bytes take more as they arrive).
  if (declared > 0) {
    const cost = bodyCostBytes(declared, content);
    if (!hold.holdAtLeast(cost)) {
      // Not compressed: Node can discard the raw body (a compressed one is piped into an inflater).
      if (payload.receivedEncodedLength === undefined) (request as HeldRequest)[REFUSED_UNREAD] = true;
      return done(budgetExhausted(budget, cost - hold.bytes, content));
    }
  }
  const compressed = payload.receivedEncodedLength !== undefined;
  let whole: Buffer | undefined;
  const chunks: Buffer[] = [];
  let received = 0;

  const finish = (err: Error | null, body?: Buffer): void => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
    if (err !== null) {
      hold.release();
      // Stop inflating at once: a decompression bomb must not go on costing CPU after its refusal.
      if (compressed) payload.destroy();
    }
    done(err, body);
  };

  function onData(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    received += bytes.length;
    if (received > limitBytes || (payload.receivedEncodedLength ?? 0) > limitBytes) return finish(bodyTooLarge(limitBytes));
    if (compressed && received > inflatedLimitBytes) return finish(inflatedBodyTooLarge(inflatedLimitBytes));
    if (!compressed && received > declared) return finish(lengthMismatch(declared, received));
    const cost = bodyCostBytes(received, content);
    if (!hold.holdAtLeast(cost)) return finish(budgetExhausted(budget, cost - hold.bytes, content));
    if (!compressed && declared > 0) {
      // Pages of a large allocation are committed as they are written, so this costs what arrived.
      whole ??= Buffer.allocUnsafe(declared);
      bytes.copy(whole, received - bytes.length);
    } else {
      chunks.push(bytes);
    }
  }

  function onEnd(err?: Error): void {
    if (err !== undefined && err !== null) {
      if (err instanceof SibylError) return finish(err);
      // A stream error (the client went away, a corrupt compressed body): zlib's codes are
      // translated by toHttpError; anything else is the client's broken request.
      return finish((err as { code?: string }).code?.startsWith('Z_') === true ? err : new SibylError('MALFORMED_REQUEST', `the request body could not be read: ${err.message}`));
    }
    const sent = payload.receivedEncodedLength ?? received;
    if (!Number.isNaN(declared) && sent !== declared) return finish(lengthMismatch(declared, sent));
    // Chunks may be views of the socket's read buffer: always copied.
    finish(null, whole ?? Buffer.concat(chunks, received));
  }

  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}

function lengthMismatch(declared: number, received: number): SibylError {
  return new SibylError('MALFORMED_REQUEST', `the request body has ${received} bytes${received > declared ? ' or more' : ''}, but its Content-Length says ${declared}; send the length of the body as sent`);
}

/**
 * Drops the request's reference to its raw body once it is decoded: the tensors own copies, and a
 * large body need not stay alive while the model runs. (Its cost stays counted in the budget
 * until the answer is sent: the tensors and the decode's garbage, which V8 collects later.)
 */
export function releaseBody(request: FastifyRequest): void {
  request.body = undefined;
}
