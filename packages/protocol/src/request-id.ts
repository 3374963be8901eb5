// The request `id` a client may set (V2 REST and gRPC): echoed in the response, written to the
// prediction log and kept by endpoints for outcome feedback (their last 100 000 ids), so its
// length is bounded. Neither the Open Inference Protocol nor Triton set a limit; 256 characters
// hold any UUID, ULID, trace id or composite key with room to spare, and 100 000 kept ids stay
// within ~50 MB.
import { SibylError } from './errors.ts';

/** Longest request id accepted, in UTF-16 code units (characters, for ASCII ids). */
export const MAX_REQUEST_ID_LENGTH = 256;

/** @throws SibylError MALFORMED_REQUEST when `id` is longer than MAX_REQUEST_ID_LENGTH. */
export function checkRequestId(id: string, where: string): string {
  if (id.length > MAX_REQUEST_ID_LENGTH) {
    throw new SibylError('MALFORMED_REQUEST', `${where} has ${id.length} characters; expected at most ${MAX_REQUEST_ID_LENGTH} (an identifier such as a UUID, echoed in the response)`);
  }
  return id;
}
