// The error an HTTP answer of a V2 or Sibyl server carries, as a ClientError: the body's
// `error` text (and Sibyl's `code` and `reason`), the status, and Retry-After.
import { codeOfHttpStatus, isErrorCode } from '@sibyl/protocol';
import { ClientError } from '../errors.ts';
import { parseRetryAfter } from '../retry.ts';

/** The ClientError an HTTP error answer carries: the V2 body's `error` (and Sibyl's code and reason), Retry-After. */
export async function errorOf(res: Response, what: string): Promise<ClientError> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    // The status alone says enough.
  }
  let body: { error?: unknown; code?: unknown; reason?: unknown } = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object') body = parsed as typeof body;
  } catch {
    // Not JSON: keep the text as the message.
  }
  const code = isErrorCode(body.code) ? body.code : codeOfHttpStatus(res.status);
  const message = typeof body.error === 'string' ? body.error : `${what} failed with HTTP ${res.status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`;
  return new ClientError(code, typeof body.reason === 'string' ? body.reason : undefined, message, {
    status: res.status,
    retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), Date.now()),
    transport: 'rest',
  });
}
