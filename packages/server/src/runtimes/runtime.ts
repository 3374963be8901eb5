// What executes a model version. A runtime turns a model artifact into instances; an instance
// runs one execution at a time. Runtimes know nothing of HTTP, queues or endpoints.
// Every rule stated here is a test of the runtime contract (testing/runtime-contract.ts), which the
// ONNX runtime and every fake pass; a new runtime runs it too.
import type { Tensor, TensorMetadata } from '@sibyl/protocol';

/**
 * Inputs and outputs as the model file declares them; -1 marks a variable dimension. Names are
 * unique among the inputs and among the outputs. Each load returns its own copy: the caller may
 * change it.
 */
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
  /** `model:version#n`, for logs and thread names; the instance's `label`. */
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
  /** Time the model itself ran, in ms (finite, ≥ 0). */
  inferMs: number;
  /** Time turning the runtime's outputs into tensors, in ms (finite, ≥ 0). */
  outputMs: number;
}

export interface Instance {
  readonly label: string;
  /**
   * Runs one batch: `members` holds each request's inputs (same names, datatypes and non-batch
   * dimensions); the instance concatenates them along the first dimension (see concatInputs)
   * and returns outputs for the whole batch: exactly the outputs named in `outputNames`, in that
   * order, each with the datatype its signature declares and a first dimension equal to the
   * members' rows added up. Rows are independent: for a deterministic model, row i of a batch
   * equals the same row run alone (so the scheduler may split the outputs among the members).
   *
   * Executions handed over while one runs wait and run one at a time, in order, and settle in
   * that order; one that fails affects none of the others.
   *
   * Ownership: the inputs' buffers pass to the instance (they may be transferred to another
   * thread and become detached); the returned tensors are the caller's, and the instance keeps
   * no reference to them. When the model fails (RUNTIME_FAILED), the members' tensors are readable
   * again, with their values unchanged, once the promise rejects — an instance that moved their
   * buffers puts them back into the same tensor objects — so the caller may run them again
   * (alone, to find which member caused the failure); the instance stays usable.
   * @throws SibylError RUNTIME_FAILED when the model rejects the inputs or fails,
   *   INSTANCE_CRASHED when the instance died while running (the inputs may be lost), or when it
   *   was closed or died before (the message names the instance).
   */
  execute(members: readonly (readonly Tensor[])[], outputNames: readonly string[]): Promise<ExecutionResult>;
  /** Resolves once, when the instance has stopped for good: `expected` after close(), false after a crash. */
  readonly exited: Promise<InstanceExit>;
  /**
   * False from the moment the instance stops (crash or close), before its pending executions are
   * rejected, so nobody hands it new work in between. A closing instance may stay alive while it
   * finishes what it holds, but takes no new execution.
   */
  readonly alive: boolean;
  /**
   * Frees the instance. From the call on, new executions reject with INSTANCE_CRASHED. Every
   * execution handed over before it settles before the returned promise resolves: answered (the
   * ONNX runtime lets them finish, as interrupting onnxruntime would abort the process) or
   * rejected with INSTANCE_CRASHED (fakes that hold executions). Then `alive` is false and `exited`
   * has resolved with `expected: true`. Idempotent: every call, concurrent or later, resolves.
   */
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
   * built. Each load gives a new instance, labelled `spec.label`, alive. A load whose `signal` is
   * aborted (already, or while it runs) rejects and leaves no instance behind.
   * @throws Error whose message names the artifact's path and says why it cannot be loaded
   *   (missing, corrupt, unsupported).
   */
  loadInstance(spec: InstanceSpec, signal?: AbortSignal): Promise<LoadedInstance>;
}
