// Messages between the main thread and an ONNX worker. Tensors travel with their buffers
// transferred, never copied.
import type { Tensor } from '@sibyl/protocol';
import type { ModelSignature } from '../runtime.ts';

export interface OnnxWorkerData {
  artifactPath: string;
  threads: number;
  /** Nice value (0–19) for the worker and its intra-op threads; 0 leaves the priority alone. */
  nice: number;
}

/**
 * `close`: release the session and exit after the run in progress. `crash`: die as a crashed
 * worker would (tests use it to exercise replacement): `exit` exits at once with a failure code,
 * `throw` throws an uncaught error on the worker's event loop.
 */
export type ToWorker = { type: 'run'; id: number; members: Tensor[][]; outputNames: string[] } | { type: 'close' } | { type: 'crash'; how: 'exit' | 'throw' };

export type FromWorker =
  | { type: 'loaded'; signature: ModelSignature }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; outputs: Tensor[]; inferMs: number; outputMs: number }
  /** `members`: the run's inputs handed back (buffers transferred), so the caller can run them again. */
  | { type: 'run-failed'; id: number; message: string; members: Tensor[][] };

/** Buffers of the tensors' typed arrays, each once, for a transfer list. */
export function transferList(tensors: readonly Tensor[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of tensors) {
    if (Array.isArray(t.data)) continue; // BYTES: small arrays of byte strings, cloned
    const buffer = t.data.buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength > 0) buffers.add(buffer);
  }
  return [...buffers];
}
