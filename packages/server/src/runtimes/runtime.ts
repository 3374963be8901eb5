// What executes a model version. A runtime turns a model artifact into instances; an instance
// runs one execution at a time. Runtimes know nothing of HTTP, queues or endpoints.
import type { Tensor, TensorMetadata } from '@sibyl/protocol';

/** Inputs and outputs as the model file declares them; -1 marks a variable dimension. */
export interface ModelSignature {
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /**
   * The runtime carries BYTES tensors as text (onnxruntime-node's string tensors are JavaScript
   * strings, passed on to the model as C strings): BYTES inputs must be valid UTF-8 without NUL
   * bytes, which requests are checked for before they are queued, and BYTES outputs are always
   * UTF-8. Absent: BYTES are carried byte for byte.
   */
  bytesAsText?: boolean;
}

export interface InstanceSpec {
  /** Path of the artifact, e.g. `<repo>/<model>/<version>/model.onnx`. */
  artifactPath: string;
  /** Intra-op threads this instance may use. */
  threads: number;
  /** `model:version#n`, for logs and thread names. */
  label: string;
}

export interface InstanceExit {
  /** True when close() ended it; false when it died on its own (a crash). */
  expected: boolean;
  reason: string;
}

/** What one execution produced, with the time its phases took inside the instance. */
export interface ExecutionResult {
  outputs: Tensor[];
  /** Time the model itself ran, in ms. */
  inferMs: number;
  /** Time turning the runtime's outputs into tensors, in ms. */
  outputMs: number;
}

export interface Instance {
  readonly label: string;
  /**
   * Runs one batch: `members` holds each request's inputs (same names, datatypes and non-batch
   * dimensions); the instance concatenates them along the first dimension (see concatInputs)
   * and returns outputs for the whole batch. Executions handed over while one runs wait and run
   * in order. Ownership of the inputs' buffers passes to the instance (they may be transferred
   * to another thread and become detached); the returned tensors are the caller's. When the
   * model fails (RUNTIME_FAILED), the members' tensors are readable again once the promise
   * rejects — an instance that moved their buffers puts them back into the same tensor objects —
   * so the caller may run them again (alone, to find which member caused the failure).
   * @throws SibylError RUNTIME_FAILED when the model rejects the inputs or fails,
   *   INSTANCE_CRASHED when the instance died while running (the inputs may be lost).
   */
  execute(members: readonly (readonly Tensor[])[], outputNames: readonly string[]): Promise<ExecutionResult>;
  /** Resolves once, when the instance has stopped for good. */
  readonly exited: Promise<InstanceExit>;
  /**
   * False from the moment the instance stops (crash or close), before its pending executions are
   * rejected, so nobody hands it new work in between.
   */
  readonly alive: boolean;
  /** Frees the instance. Idempotent; pending executions fail with INSTANCE_CRASHED. */
  close(): Promise<void>;
}

export interface LoadedInstance {
  instance: Instance;
  /** Read from the artifact by this load. */
  signature: ModelSignature;
}

export interface Runtime {
  readonly name: string;
  /** Platform string reported in model metadata (`onnxruntime_onnx`, as Triton names it). */
  readonly platform: string;
  /**
   * Loads one instance of an artifact. Expensive: this is where files are read and sessions
   * built. @throws Error whose message says why the artifact cannot be loaded.
   */
  loadInstance(spec: InstanceSpec, signal?: AbortSignal): Promise<LoadedInstance>;
}
