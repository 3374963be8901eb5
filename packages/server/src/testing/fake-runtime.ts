// A scriptable instance for scheduler and pool tests: records what it was asked to run and
// answers only when the test says so, or dies on demand like a crashed worker.
import { SibylError, type Tensor } from '@sibyl/protocol';
import type { ExecutionResult, Instance, InstanceExit } from '../runtimes/runtime.ts';

export interface FakeExecution {
  inputs: readonly Tensor[];
  outputNames: readonly string[];
  /** Answers the execution with these outputs (default: the inputs renamed to the outputs). */
  finish(outputs?: Tensor[]): void;
  fail(err: Error): void;
}

export class FakeInstance implements Instance {
  readonly executions: FakeExecution[] = [];
  readonly exited: Promise<InstanceExit>;
  private running: FakeExecution | undefined;
  private exit!: (exit: InstanceExit) => void;
  private dead = false;
  /** Executions running at once, at most (must stay 1: the pool never overlaps them). */
  maxConcurrent = 0;
  private concurrent = 0;

  constructor(readonly label: string) {
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  get alive(): boolean {
    return !this.dead;
  }

  get current(): FakeExecution | undefined {
    return this.running;
  }

  execute(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<ExecutionResult> {
    if (this.dead) return Promise.reject(new SibylError('INSTANCE_CRASHED', `${this.label} is dead`));
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    return new Promise<ExecutionResult>((resolve, reject) => {
      const done = (): void => {
        this.concurrent--;
        this.running = undefined;
      };
      const execution: FakeExecution = {
        inputs,
        outputNames,
        finish: (outputs) => {
          done();
          resolve({ outputs: outputs ?? inputs.map((t, i) => ({ ...t, name: outputNames[i] ?? t.name })), inferMs: 1, outputMs: 0 });
        },
        fail: (err) => {
          done();
          reject(err);
        },
      };
      this.running = execution;
      this.executions.push(execution);
    });
  }

  /** Dies like a crashed worker: the running execution fails with INSTANCE_CRASHED. */
  crash(reason = 'simulated crash'): void {
    this.dead = true;
    this.running?.fail(new SibylError('INSTANCE_CRASHED', `${this.label} died (${reason})`));
    this.exit({ expected: false, reason });
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    this.running?.fail(new SibylError('INSTANCE_CRASHED', `${this.label} closed`));
    this.exit({ expected: true, reason: 'closed' });
  }
}

/** A tensor for fake runs: FP32 [1, n] holding `values`. */
export function fakeTensor(name: string, values: readonly number[]): Tensor {
  return { name, datatype: 'FP32', shape: [1, values.length], data: Float32Array.from(values) };
}
