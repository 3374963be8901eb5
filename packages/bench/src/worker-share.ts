// The parent side of a share run on a worker thread (--workers K > 1). The worker runs
// worker-main.ts; since Node 20 does not pass tsx's loader hooks on to worker threads, a small
// CommonJS bootstrap registers tsx in the worker before importing it.
//
// Messages, parent → worker: start {spec} | progress | cut {atEpochMs} | stop.
// Worker → parent: ready | progress {progress} | result {result}. Replies come in request order.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ShareProgress, ShareResult, ShareSpec } from './load-share.ts';

export type ToWorker = { type: 'start'; spec: ShareSpec } | { type: 'progress' } | { type: 'cut'; atEpochMs: number } | { type: 'stop' };
export type FromWorker = { type: 'ready' } | { type: 'progress'; progress: ShareProgress } | { type: 'result'; result: ShareResult };

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then((tsx) => { tsx.register(); return import(workerData.entry); });
`;

/** URL of tsx's ESM register API (its CommonJS build cannot register from a CJS context). */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  return pathToFileURL(require.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}

/** A started worker share; same shape as run-bench's ShareHandle. */
export interface WorkerShare {
  start(spec: ShareSpec): void;
  progress(): Promise<ShareProgress>;
  cut(atEpochMs: number): void;
  stop(): Promise<ShareResult>;
}

/** Starts a worker thread and resolves once it has loaded the bench modules and can start. */
export async function spawnWorkerShare(): Promise<WorkerShare> {
  const worker = new Worker(BOOTSTRAP, {
    eval: true,
    workerData: { tsxApi: tsxApiUrl(), entry: new URL('./worker-main.ts', import.meta.url).href },
  });
  const waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void }[] = [];
  let failure: Error | undefined;
  const failAll = (e: Error): void => {
    failure = e;
    for (const w of waiting.splice(0)) w.reject(e);
  };
  worker.on('message', (m: FromWorker) => waiting.shift()?.resolve(m));
  worker.on('error', (e) => failAll(new Error(`bench worker failed: ${e.message}`)));
  worker.on('exit', (code) => failAll(new Error(`bench worker exited (code ${code})`)));
  const next = (): Promise<FromWorker> =>
    failure !== undefined ? Promise.reject(failure) : new Promise<FromWorker>((resolve, reject) => waiting.push({ resolve, reject }));
  const post = (m: ToWorker): void => worker.postMessage(m);

  await next(); // ready
  return {
    start: (spec) => post({ type: 'start', spec }),
    progress: async () => {
      const reply = next();
      post({ type: 'progress' });
      return ((await reply) as { progress: ShareProgress }).progress;
    },
    cut: (atEpochMs) => post({ type: 'cut', atEpochMs }),
    stop: async () => {
      const reply = next();
      post({ type: 'stop' });
      const { result } = (await reply) as { result: ShareResult };
      await worker.terminate();
      return result;
    },
  };
}
