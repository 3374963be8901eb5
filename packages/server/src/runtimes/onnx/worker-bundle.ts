// The ONNX worker's code as one ES module, bundled once per process with esbuild (which tsx
// already brings). Registering tsx in every worker costs ~200–300 ms a load (measured on this
// machine: 264 ms and 362 ms to start a worker that registers tsx, 56 ms for one that imports
// onnxruntime-node alone); a bundled worker starts in ~50 ms, so loads, swaps and on-demand
// loads are that much faster. onnxruntime-node stays outside the bundle (a native addon),
// imported by its absolute file URL so the data: URL module can find it.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ENTRY = new URL('./onnx-worker.ts', import.meta.url);
/** Used when bundling fails (it should not): registers tsx in the worker, then imports the entry. */
export const UNBUNDLED_WORKER_URL = new URL('./onnx-worker-entry.js', import.meta.url);

let bundled: Promise<URL> | undefined;

/** The worker module's URL: a data: URL of the bundle, built on first use and shared. */
export function onnxWorkerUrl(): Promise<URL> {
  bundled ??= bundle().catch(() => UNBUNDLED_WORKER_URL);
  return bundled;
}

async function bundle(): Promise<URL> {
  const ortUrl = pathToFileURL(createRequire(ENTRY).resolve('onnxruntime-node')).href;
  const result = await build({
    entryPoints: [fileURLToPath(ENTRY)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [{ name: 'onnxruntime-external', setup: (b) => void b.onResolve({ filter: /^onnxruntime-node$/ }, () => ({ path: ortUrl, external: true })) }],
  });
  const code = result.outputFiles[0]!.text;
  return new URL(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}
