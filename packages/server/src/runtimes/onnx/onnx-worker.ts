// One onnxruntime session in its own worker thread. session.run computes synchronously on the
// calling thread, so it must never run on the main thread (DESIGN.md, Performance stance).
// Receives `run` messages one at a time from its instance and answers each with the outputs,
// transferring their buffers back.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { Tensor, TensorMetadata } from '@sibyl/protocol';
import { concatInputs } from '../../core/batch-tensors.ts';
import { datatypeOfOrtType, ortTypeOf } from './datatypes.ts';
import { transferList, type FromWorker, type OnnxWorkerData, type ToWorker } from './messages.ts';

const port = parentPort!;
const data = workerData as OnnxWorkerData;
const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function metadataOf(values: readonly ort.InferenceSession.ValueMetadata[], kind: 'input' | 'output'): TensorMetadata[] {
  return values.map((v) => {
    if (!v.isTensor) throw new Error(`${kind} '${v.name}' is not a tensor (sequences and maps are not supported)`);
    const datatype = datatypeOfOrtType(v.type);
    if (datatype === undefined) throw new Error(`${kind} '${v.name}' has element type ${v.type}, which onnxruntime-node cannot exchange`);
    return { name: v.name, datatype, shape: v.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  });
}

// BYTES inputs reach here valid UTF-8 (validateInferRequest checks them: the signature says
// bytesAsText), so decoding them loses nothing.
function toOrt(tensor: Tensor): ort.Tensor {
  const type = ortTypeOf(tensor.datatype)!; // the model manager validated datatypes against the signature
  if (Array.isArray(tensor.data)) {
    return new ort.Tensor('string', tensor.data.map((bytes) => utf8Decoder.decode(bytes)), tensor.shape);
  }
  return new ort.Tensor(type as 'float32', tensor.data as Float32Array, tensor.shape);
}

function fromOrt(name: string, value: ort.Tensor): Tensor {
  const datatype = datatypeOfOrtType(value.type);
  if (datatype === undefined) throw new Error(`output '${name}' has element type ${value.type}, which cannot be returned`);
  const shape = value.dims.map(Number);
  if (datatype === 'BYTES') return { name, datatype, shape, data: (value.data as string[]).map((s) => utf8Encoder.encode(s)) };
  return { name, datatype, shape, data: value.data as Float32Array };
}

/**
 * Lowers this thread's scheduling priority (Linux nice value) before the session exists, so the
 * intra-op threads onnxruntime creates inherit it. Compute still takes every idle cycle, but the
 * event loop preempts it at once when a request arrives, which keeps health checks and request
 * parsing fast on a busy machine. Best effort: elsewhere than Linux it does nothing.
 */
function lowerThreadPriority(nice: number): void {
  if (nice === 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid)) setPriority(tid, nice);
  } catch {
    // No /proc or not permitted: run at the process's priority.
  }
}

/**
 * onnxruntime's own logger writes coloured text lines (`[E:onnxruntime:, sequential_executor.cc…]`)
 * straight to the process's stderr from native code, where no JavaScript can catch or reformat
 * them; onnxruntime-node offers no callback sink. Only fatal messages are let through: every error
 * onnxruntime reports also reaches us as the exception it throws, which the server logs as JSON
 * (or answers to the client), so nothing is lost but the unstructured copy — and a client whose
 * input makes runs fail can no longer write a line per request outside the server's log.
 */
const ORT_LOG_SEVERITY_FATAL = 4;

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  lowerThreadPriority(data.nice);
  // The environment's level (set once per process, by the first session) covers messages outside
  // a session; the session's own level covers loading and running it.
  ort.env.logLevel = 'fatal';
  try {
    session = await ort.InferenceSession.create(data.artifactPath, {
      logSeverityLevel: ORT_LOG_SEVERITY_FATAL,
      intraOpNumThreads: data.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Idle intra-op threads must not spin: they would take CPU from the event loop and the
      // other instances on a small machine.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    // onnxruntime-node converts string tensors to and from JavaScript strings as UTF-8.
    send({ type: 'loaded', signature: { inputs: metadataOf(session.inputMetadata, 'input'), outputs: metadataOf(session.outputMetadata, 'output'), bytesAsText: true } });
  } catch (err) {
    send({ type: 'load-failed', message: err instanceof Error ? err.message : String(err) });
    return; // nothing keeps the thread alive: it exits
  }

  // Runs arrive one at a time, but a `close` may arrive while session.run is still pending (it
  // yields to the event loop before computing): release the session only after the last run.
  let last: Promise<void> = Promise.resolve();
  port.on('message', (message: ToWorker) => {
    if (message.type === 'close') {
      void last.then(() => session.release()).finally(() => port.close());
      return;
    }
    if (message.type === 'crash') {
      if (message.how === 'exit') process.exit(70); // in a worker, ends only this thread
      setImmediate(() => {
        throw new Error('simulated uncaught error in the worker');
      });
      return;
    }
    last = last.then(() => run(session, message));
  });
}

async function run(session: ort.InferenceSession, message: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of concatInputs(message.members)) feeds[input.name] = toOrt(input);
    const started = performance.now();
    const results = await session.run(feeds, message.outputNames);
    const ran = performance.now();
    const outputs = message.outputNames.map((name) => fromOrt(name, results[name]!));
    send({ type: 'result', id: message.id, outputs, inferMs: ran - started, outputMs: performance.now() - ran }, transferList(outputs));
  } catch (err) {
    // A failed run leaves the inputs intact: hand them back for the caller's retries.
    send({ type: 'run-failed', id: message.id, message: err instanceof Error ? err.message : String(err), members: message.members }, transferList(message.members.flat()));
  }
}

await main();
