// One prediction log record, as every sink stores it and the API returns it. Tensor data is
// JSON-ready (numbers, strings for 64-bit integers and BYTES, booleans) and already redacted:
// a record never holds the clear value of a dropped or hashed field.
import type { Datatype } from '@sibyl/protocol';

export interface LoggedTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  /**
   * Row-major elements; absent when the field rule is drop. With hash, each element is the hex
   * HMAC-SHA256 of its text form (the number as JSON writes it, the UTF-8 string of a BYTES
   * element, true/false).
   */
  data?: (number | string | boolean)[];
  /** The rule that applied when it was not keep. */
  redaction?: 'dropped' | 'hashed';
}

export interface PredictionRecord {
  /** Wall-clock time the answer was ready, ms since the Unix epoch. */
  timeMs: number;
  model: string;
  version: string;
  /** The request id of the transport (`x-request-id`, or the one the server gave the request). */
  requestId: string;
  /** The authenticated caller's id (an API key's name, a JWT's subject); absent when authentication is off. */
  principal?: string;
  /** The `id` of the inference request body, if it had one. */
  id?: string;
  latencyMs: number;
  outcome: 'success' | 'error';
  /** On error: its code and reason (the message is not kept: it may quote input values). */
  error?: { code: string; reason: string };
  inputs: LoggedTensor[];
  outputs: LoggedTensor[];
}

/** What a query asks a sink for. Records come in time order, oldest first. */
export interface PredictionQuery {
  model: string;
  /** Inclusive lower bound, ms since the epoch. */
  sinceMs: number;
  /** Exclusive upper bound, ms since the epoch; undefined: now. */
  untilMs?: number;
  version?: string;
  limit: number;
}

/**
 * Where prediction records are stored. Contract (tested by the shared suite in
 * testing/prediction-sink-contract.ts, run by every sink): write() stores records durably before it
 * resolves; query() returns matching records oldest first, at most `limit`; deleteBefore()
 * removes one model's records older than a time and says how many. Calls may overlap; close()
 * waits for writes in progress and is idempotent.
 */
export interface PredictionSink {
  readonly name: string;
  write(records: readonly PredictionRecord[]): Promise<void>;
  query(query: PredictionQuery): Promise<PredictionRecord[]>;
  deleteBefore(model: string, beforeMs: number): Promise<number>;
  close(): Promise<void>;
}
