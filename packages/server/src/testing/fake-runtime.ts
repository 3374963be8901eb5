// A scriptable instance for scheduler and pool tests. Like a real worker it holds the executions
// handed to it in an inbox and runs them in order; each answers only when the test says so (or
// when its `answer` function does), and the instance can die on demand like a crashed worker.
import { readFile } from 'node:fs/promises';
import { SibylError, type Tensor } from '@sibyl/protocol';
import { concatInputs } from '../core/batch-tensors.ts';
import type { ExecutionResult, Instance, InstanceExit, InstanceSpec, LoadedInstance, ModelSignature, Runtime } from '../runtimes/runtime.ts';

export interface FakeExecution {
  /** The batch as the model sees it: the members' inputs concatenated. */
  inputs: readonly Tensor[];
  outputNames: readonly string[];
  /**
   * Answers the execution with these outputs (default: one output per name asked for, a copy of
   * the input in the same position, or of the last input, renamed).
   */
  finish(outputs?: Tensor[]): void;
  fail(err: Error): void;
}

export class FakeInstance implements Instance {
  /** Every execution ever handed to this instance, in order. */
  readonly executions: FakeExecution[] = [];
  readonly exited: Promise<InstanceExit>;
  /** Most executions held at once (running plus waiting in the inbox). */
  maxOutstanding = 0;
  private readonly inbox: FakeExecution[] = [];
  private exit!: (exit: InstanceExit) => void;
  private dead = false;

  /**
   * `answer`, when given, is called with each execution as it becomes the current one (one at a
   * time, in order), and settles it; without it the test settles executions itself.
   */
  constructor(
    readonly label: string,
    private readonly answer?: (execution: FakeExecution) => void,
  ) {
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** The execution running now (the oldest unanswered one). */
  get current(): FakeExecution | undefined {
    return this.inbox[0];
  }

  /** Executions held: the running one and those waiting behind it. */
  get outstanding(): number {
    return this.inbox.length;
  }

  execute(members: readonly (readonly Tensor[])[], outputNames: readonly string[]): Promise<ExecutionResult> {
    if (this.dead) return Promise.reject(new SibylError('INSTANCE_CRASHED', `${this.label} is dead`));
    const inputs = concatInputs(members);
    return new Promise<ExecutionResult>((resolve, reject) => {
      const settle = (): void => {
        const at = this.inbox.indexOf(execution);
        if (at >= 0) this.inbox.splice(at, 1);
        if (at === 0) this.answerCurrent();
      };
      const execution: FakeExecution = {
        inputs,
        outputNames,
        finish: (outputs) => {
          settle();
          resolve({ outputs: outputs ?? outputNames.map((name, i) => renamedCopy(inputs[Math.min(i, inputs.length - 1)]!, name)), inferMs: 1, outputMs: 0 });
        },
        fail: (err) => {
          settle();
          reject(err);
        },
      };
      this.inbox.push(execution);
      this.executions.push(execution);
      this.maxOutstanding = Math.max(this.maxOutstanding, this.inbox.length);
      if (this.inbox.length === 1) this.answerCurrent();
    });
  }

  private answerCurrent(): void {
    const { answer } = this;
    const current = this.inbox[0];
    if (answer !== undefined && current !== undefined && !this.dead) queueMicrotask(() => this.inbox[0] === current && answer(current));
  }

  /** Dies like a crashed worker: every execution it holds fails with INSTANCE_CRASHED. */
  crash(reason = 'simulated crash'): void {
    this.dead = true;
    for (const e of [...this.inbox]) e.fail(new SibylError('INSTANCE_CRASHED', `${this.label} died (${reason})`));
    this.exit({ expected: false, reason });
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    for (const e of [...this.inbox]) e.fail(new SibylError('INSTANCE_CRASHED', `${this.label} closed`));
    this.exit({ expected: true, reason: 'closed' });
  }
}

function renamedCopy(tensor: Tensor, name: string): Tensor {
  const data = Array.isArray(tensor.data) ? tensor.data.map((e) => e.slice()) : (tensor.data as Float32Array).slice();
  return { name, datatype: tensor.datatype, shape: [...tensor.shape], data };
}

/**
 * Loads FakeInstances with a fixed signature, answered by `answer` (see FakeInstance). The artifact
 * must hold the text `fake`.
 */
export class FakeRuntime implements Runtime {
  readonly name = 'fake';
  readonly platform = 'fake';
  /** Every instance loaded, in order. */
  readonly instances: FakeInstance[] = [];

  constructor(private readonly options: { signature: ModelSignature; answer?: (execution: FakeExecution) => void }) {}

  async loadInstance(spec: InstanceSpec, signal?: AbortSignal): Promise<LoadedInstance> {
    if (signal?.aborted === true) throw new Error(`load of ${spec.artifactPath} aborted`);
    const text = (await readFile(spec.artifactPath, 'utf8')).trim();
    if (text !== 'fake') throw new Error(`fake runtime: ${spec.artifactPath} holds ${JSON.stringify(text.slice(0, 80))}, not 'fake'`);
    const instance = new FakeInstance(spec.label, this.options.answer);
    this.instances.push(instance);
    return { instance, signature: structuredClone(this.options.signature) };
  }
}
