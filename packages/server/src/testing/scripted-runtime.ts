// A runtime for lifecycle tests that reads a script from the artifact instead of a model: the
// text of `model.onnx` says what the version does. Loads and executions can be held until the
// test releases them, so a test can look at the server mid-swap or mid-drain, deterministically.
//
//   add 2              y = x + 2 for input x (FP32 [-1, 1]); any number
//   add 2 after 30     the same, answered 30 ms (real time) after each execution starts
//   add 2 input z      the same, with its input named z instead of x (another signature)
//   add 2 fail-on 13   the same, but an execution holding the value 13 fails (RUNTIME_FAILED)
//   fail <message>     the load fails with <message>
//   fail-runs          loads, but every execution fails
import { readFile } from 'node:fs/promises';
import { SibylError, type Tensor } from '@sibyl/protocol';
import type { ExecutionResult, Instance, InstanceExit, InstanceSpec, LoadedInstance, Runtime } from '../runtimes/runtime.ts';
import { concatInputs } from '../core/batch-tensors.ts';

/** The signature every scripted version has. */
export const SCRIPTED_SIGNATURE = {
  inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 1] }],
  outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [-1, 1] }],
};

/** A gate: work matching it waits until release(). */
class Gate {
  private readonly waiting: (() => void)[] = [];
  released = false;
  constructor(readonly match: (label: string) => boolean) {}
  wait(): Promise<void> {
    return this.released ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }
  get waiters(): number {
    return this.waiting.length;
  }
  release(): void {
    this.released = true;
    for (const fn of this.waiting.splice(0)) fn();
  }
}

class ScriptedInstance implements Instance {
  readonly exited: Promise<InstanceExit>;
  alive = true;
  executions = 0;
  private exit!: (exit: InstanceExit) => void;

  constructor(
    readonly label: string,
    private readonly script: { offset: number; failExecutions: boolean; delayMs: number; failOn: number | undefined },
    private readonly runtime: ScriptedRuntime,
  ) {
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  /** Executions handed over and not settled; close() fails them (see Instance.close). */
  private readonly pending = new Set<(err: Error) => void>();
  /** The last execution handed over: the next one starts when it has settled (one at a time, in order). */
  private tail: Promise<unknown> = Promise.resolve();

  execute(members: readonly (readonly Tensor[])[], outputNames: readonly string[]): Promise<ExecutionResult> {
    if (!this.alive) return Promise.reject(new SibylError('INSTANCE_CRASHED', `instance ${this.label} is not running`));
    this.executions++;
    const work = this.tail.then(() => this.run(members, outputNames));
    this.tail = work.catch(() => undefined);
    return new Promise<ExecutionResult>((resolve, reject) => {
      const fail = (err: Error): void => {
        this.pending.delete(fail);
        reject(err);
      };
      this.pending.add(fail);
      work.then(
        (result) => {
          if (!this.pending.delete(fail)) return; // closed meanwhile: already failed
          resolve(result);
        },
        (err: unknown) => fail(err as Error),
      );
    });
  }

  private async run(members: readonly (readonly Tensor[])[], outputNames: readonly string[]): Promise<ExecutionResult> {
    await this.runtime.gateFor('execute', this.label);
    if (this.script.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.script.delayMs));
    if (this.script.failExecutions) throw new SibylError('RUNTIME_FAILED', `instance ${this.label} fails every execution`);
    const [x] = concatInputs(members);
    const input = x!.data as Float32Array;
    if (this.script.failOn !== undefined && input.includes(this.script.failOn)) {
      throw new SibylError('RUNTIME_FAILED', `instance ${this.label} fails on the value ${this.script.failOn}`);
    }
    const y = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) y[i] = input[i]! + this.script.offset;
    return { outputs: [{ name: outputNames[0] ?? 'y', datatype: 'FP32', shape: [...x!.shape], data: y }], inferMs: 0, outputMs: 0 };
  }

  /** Executions still held (gated or delayed) fail with INSTANCE_CRASHED, as Instance.close allows. */
  async close(): Promise<void> {
    if (!this.alive) return;
    this.alive = false;
    for (const fail of [...this.pending]) fail(new SibylError('INSTANCE_CRASHED', `instance ${this.label} was closed before it answered`));
    this.runtime.closed.push(this.label);
    this.exit({ expected: true, reason: 'closed' });
  }
}

export class ScriptedRuntime implements Runtime {
  readonly name = 'scripted';
  readonly platform = 'scripted';
  /** Labels (`model:version#n`) of every instance load started, in order. */
  readonly loads: string[] = [];
  /** Labels of every instance closed, in order. */
  readonly closed: string[] = [];
  private readonly instances: ScriptedInstance[] = [];
  private readonly gates: { kind: 'load' | 'execute'; gate: Gate }[] = [];

  /** Instances loaded and not closed. */
  get live(): number {
    return this.instances.filter((i) => i.alive).length;
  }

  /** Labels of the live instances. */
  liveLabels(): string[] {
    return this.instances.filter((i) => i.alive).map((i) => i.label);
  }

  /** Executions run by the live or closed instances whose label starts with `prefix`. */
  executionsOf(prefix: string): number {
    return this.instances.filter((i) => i.label.startsWith(prefix)).reduce((n, i) => n + i.executions, 0);
  }

  /**
   * Holds loads (or executions) of instances whose label starts with `prefix` (`model:version`)
   * until the returned gate is released.
   */
  hold(kind: 'load' | 'execute', prefix: string): { release: () => void; readonly waiters: number } {
    const gate = new Gate((label) => label.startsWith(prefix));
    this.gates.push({ kind, gate });
    return gate;
  }

  /** Waits on every unreleased gate matching the label. */
  async gateFor(kind: 'load' | 'execute', label: string): Promise<void> {
    for (const g of this.gates) if (g.kind === kind && !g.gate.released && g.gate.match(label)) await g.gate.wait();
  }

  async loadInstance(spec: InstanceSpec, signal?: AbortSignal): Promise<LoadedInstance> {
    this.loads.push(spec.label);
    await this.gateFor('load', spec.label);
    if (signal?.aborted === true) throw new Error(`load of ${spec.artifactPath} aborted`);
    const text = (await readFile(spec.artifactPath, 'utf8')).trim();
    if (text === 'fail' || text.startsWith('fail ')) throw new Error(text.slice(4).trim() || 'scripted load failure');
    const add = /^add (-?[0-9.]+)(?: after ([0-9]+))?(?: input ([A-Za-z_][A-Za-z0-9_]*))?(?: fail-on (-?[0-9.]+))?$/.exec(text);
    if (add === null && text !== 'fail-runs') throw new Error(`scripted runtime: cannot read script ${JSON.stringify(text)} in ${spec.artifactPath}`);
    const script = { offset: add === null ? 0 : Number(add[1]), failExecutions: text === 'fail-runs', delayMs: add?.[2] === undefined ? 0 : Number(add[2]), failOn: add?.[4] === undefined ? undefined : Math.fround(Number(add[4])) };
    const instance = new ScriptedInstance(spec.label, script, this);
    this.instances.push(instance);
    const signature = structuredClone(SCRIPTED_SIGNATURE);
    if (add?.[3] !== undefined) signature.inputs[0]!.name = add[3];
    return { instance, signature };
  }
}
