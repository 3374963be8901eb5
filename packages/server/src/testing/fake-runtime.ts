// A scriptable instance for scheduler and pool tests. Like a real worker it holds the executions
// handed to it in an inbox and runs them in order; each answers only when the test says so, and
// the instance can die on demand like a crashed worker.
import { SibylError, type Tensor } from '@sibyl/protocol';
import { concatInputs } from '../core/batch-tensors.ts';
import type { ExecutionResult, Instance, InstanceExit } from '../runtimes/runtime.ts';

export interface FakeExecution {
  /** The batch as the model sees it: the members' inputs concatenated. */
  inputs: readonly Tensor[];
  outputNames: readonly string[];
  /** Answers the execution with these outputs (default: the inputs renamed to the outputs). */
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

  constructor(readonly label: string) {
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
      };
      const execution: FakeExecution = {
        inputs,
        outputNames,
        finish: (outputs) => {
          settle();
          resolve({ outputs: outputs ?? inputs.map((t, i) => ({ ...t, name: outputNames[i] ?? t.name })), inferMs: 1, outputMs: 0 });
        },
        fail: (err) => {
          settle();
          reject(err);
        },
      };
      this.inbox.push(execution);
      this.executions.push(execution);
      this.maxOutstanding = Math.max(this.maxOutstanding, this.inbox.length);
    });
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
