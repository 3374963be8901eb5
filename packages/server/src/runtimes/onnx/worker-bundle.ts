// The ONNX worker's code, bundled once per process (core/worker-bundle.ts) with onnxruntime-node
// left outside: a bundled worker starts in ~50 ms against ~300 ms for one that registers tsx, so
// loads, swaps and on-demand loads are that much faster.
import { bundledWorkerUrl } from '../../core/worker-bundle.ts';

const ENTRY = new URL('./onnx-worker.ts', import.meta.url);
/** Used when bundling fails (it should not): registers tsx in the worker, then imports the entry. */
export const UNBUNDLED_WORKER_URL = new URL('./onnx-worker-entry.js', import.meta.url);

let worker: Promise<URL> | undefined;

/** The worker module's URL: a data: URL of the bundle, built on first use and shared. */
export function onnxWorkerUrl(): Promise<URL> {
  worker ??= bundledWorkerUrl(ENTRY, ['onnxruntime-node']).catch(() => UNBUNDLED_WORKER_URL);
  return worker;
}
