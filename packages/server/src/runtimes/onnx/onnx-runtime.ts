// The `onnx` runtime: each instance is a worker thread holding one onnxruntime-node session.
// The main thread only posts tensors (buffers transferred) and receives outputs.
import { Worker } from 'node:worker_threads';
import { SibylError, type Tensor } from '@sibyl/protocol';
import type { ExecutionResult, Instance, InstanceExit, InstanceSpec, LoadedInstance, ModelSignature, Runtime } from '../runtime.ts';
import { concatInputs } from '../../core/batch-tensors.ts';
import { transferList, type FromWorker, type OnnxWorkerData, type ToWorker } from './messages.ts';
import { onnxWorkerUrl } from './worker-bundle.ts';

/** Bytes of the members' fixed-size tensors (BYTES tensors count as small). */
function batchBytes(members: readonly (readonly Tensor[])[]): number {
  let bytes = 0;
  for (const member of members) for (const t of member) bytes += Array.isArray(t.data) ? 0 : t.data.byteLength;
  return bytes;
}

/**
 * Batches smaller than this are concatenated here before posting: one small copy costs the event
 * loop less than cloning and transferring many small tensors. Larger batches are concatenated in
 * the worker, so the event loop never copies megabytes.
 */
const CONCAT_HERE_BELOW_BYTES = 256 * 1024;
/** How long close() waits for an idle worker to release its session before terminating it. */
const CLOSE_TIMEOUT_MS = 5_000;

// Never terminate() a worker, nor exit the process, while onnxruntime runs in it: interrupting the
// native call aborts the whole process ("terminate called after throwing an instance of
// 'Napi::Error'", exit code 134; measured with onnxruntime-node 1.30 on Node 20). A run in
// progress is always allowed to finish.

interface Pending {
  resolve: (result: ExecutionResult) => void;
  reject: (err: Error) => void;
  /** The caller's tensors whose buffers were transferred (a failed run puts them back); else undefined. */
  moved: readonly (readonly Tensor[])[] | undefined;
}

class OnnxInstance implements Instance {
  readonly label: string;
  readonly exited: Promise<InstanceExit>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing = false;
  private exitReason: string | undefined;
  alive = true;

  constructor(worker: Worker, label: string) {
    this.worker = worker;
    this.label = label;
    this.exited = new Promise((resolve) => {
      // 'error' (an uncaught exception in the worker) is always followed by 'exit'.
      worker.on('error', (err) => {
        this.exitReason = `worker error: ${err.message}`;
      });
      worker.on('exit', (code) => {
        this.alive = false;
        const expected = this.closing;
        const reason = this.exitReason ?? (expected ? 'closed' : `worker exited with code ${code}`);
        this.failPending(
          new SibylError('INSTANCE_CRASHED', expected ? `instance ${label} was closed before it answered` : `instance ${label} died (${reason}); it is being replaced`),
        );
        resolve({ expected, reason });
      });
    });
    worker.on('message', (message: FromWorker) => this.onMessage(message));
  }

  execute(members: readonly (readonly Tensor[])[], outputNames: readonly string[]): Promise<ExecutionResult> {
    if (this.closing || !this.alive) {
      return Promise.reject(new SibylError('INSTANCE_CRASHED', `instance ${this.label} is not running`));
    }
    const id = this.nextId++;
    return new Promise<ExecutionResult>((resolve, reject) => {
      const concatHere = members.length > 1 && batchBytes(members) < CONCAT_HERE_BELOW_BYTES;
      this.pending.set(id, { resolve, reject, moved: concatHere ? undefined : members });
      const batch = concatHere ? [concatInputs(members)] : (members as Tensor[][]);
      const message: ToWorker = { type: 'run', id, members: batch, outputNames: outputNames as string[] };
      this.worker.postMessage(message, transferList(batch.flat()));
    });
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      // The worker handles `close` after the run in progress. Terminate only a worker that is
      // idle yet has not exited in time (see the note at the top).
      this.worker.postMessage({ type: 'close' } satisfies ToWorker);
      const timer = setInterval(() => {
        if (this.pending.size === 0) void this.worker.terminate();
      }, CLOSE_TIMEOUT_MS);
      timer.unref();
      await this.exited;
      clearInterval(timer);
    }
    await this.exited;
  }

  /**
   * Makes the worker die as a crashed worker would — exit at once with a failure code, or throw an
   * uncaught error: runs sent after this call fail with INSTANCE_CRASHED and the pool replaces the
   * instance. For tests and drills.
   */
  simulateCrash(how: 'exit' | 'throw' = 'exit'): void {
    this.worker.postMessage({ type: 'crash', how } satisfies ToWorker);
  }

  private onMessage(message: FromWorker): void {
    if (message.type !== 'result' && message.type !== 'run-failed') return;
    const pending = this.pending.get(message.id);
    if (pending === undefined) return;
    this.pending.delete(message.id);
    if (message.type === 'result') pending.resolve({ outputs: message.outputs, inferMs: message.inferMs, outputMs: message.outputMs });
    else {
      if (pending.moved !== undefined) restoreInputs(pending.moved, message.members);
      pending.reject(new SibylError('RUNTIME_FAILED', `onnxruntime failed on instance ${this.label}: ${message.message}`));
    }
  }

  private failPending(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/** Puts the data a worker handed back into the caller's tensors whose buffers it had taken. */
function restoreInputs(moved: readonly (readonly Tensor[])[], returned: readonly (readonly Tensor[])[]): void {
  moved.forEach((member, i) =>
    member.forEach((tensor, j) => {
      const back = returned[i]?.[j];
      if (back !== undefined && back.name === tensor.name) tensor.data = back.data;
    }),
  );
}

export interface OnnxRuntimeOptions {
  /**
   * Nice value of inference threads (Linux). Default 10: below the event loop, so request handling
   * preempts compute; 0 runs inference at the same priority as the event loop.
   */
  inferenceNice?: number;
}

export class OnnxRuntime implements Runtime {
  readonly name = 'onnx';
  readonly platform = 'onnxruntime_onnx';
  private readonly nice: number;

  constructor(options: OnnxRuntimeOptions = {}) {
    this.nice = options.inferenceNice ?? 10;
  }

  /** Starts a worker, waits for its session, and returns it with the signature read from the file. */
  async loadInstance(spec: InstanceSpec, signal?: AbortSignal): Promise<LoadedInstance> {
    // An abort listener added to an already-aborted signal never fires: check first.
    if (signal?.aborted === true) throw new Error(`load of ${spec.artifactPath} aborted`);
    const workerData: OnnxWorkerData = { artifactPath: spec.artifactPath, threads: spec.threads, nice: this.nice };
    const worker = new Worker(await onnxWorkerUrl(), { workerData, name: `sibyl ${spec.label}` });
    return new Promise<LoadedInstance>((resolve, reject) => {
      const fail = (err: Error): void => {
        cleanup();
        void worker.terminate();
        reject(err);
      };
      const onMessage = (message: FromWorker): void => {
        if (message.type === 'loaded') {
          cleanup();
          resolve({ instance: new OnnxInstance(worker, spec.label), signature: message.signature satisfies ModelSignature });
        } else if (message.type === 'load-failed') {
          fail(new Error(message.message));
        }
      };
      const onError = (err: Error): void => fail(new Error(`worker failed while loading: ${err.message}`));
      const onExit = (code: number): void => fail(new Error(`worker exited with code ${code} while loading`));
      const onAbort = (): void => fail(new Error('load aborted'));
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Whether an instance is an ONNX worker instance, which can simulate a crash. */
export function canSimulateCrash(instance: Instance): instance is Instance & { simulateCrash(how?: 'exit' | 'throw'): void } {
  return instance instanceof OnnxInstance;
}
