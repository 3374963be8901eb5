// A runtime for lifecycle tests that reads a script from the artifact instead of a model: the
// text of `model.onnx` says what the version does. Loads and executions can be held until the
// test releases them, so a test can look at the server mid-swap or mid-drain, deterministically.
//
//   add 2              y = x + 2 for input x (FP32 [-1, 1]); any number
//   add 2 after 30     the same, answered 30 ms (real time) after each execution starts
//   add 2 input z      the same, with its input named z instead of x (another signature)
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
    private readonly script: { offset: number; failExecutions: boolean; delayMs: number },
    private readonly runtime: ScriptedRuntime,
  ) {
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  async execute(members: readonly (readonly Tensor[])[], outputNames: readonly string[]): Promise<ExecutionResult> {
    if (!this.alive) throw new SibylError('INSTANCE_CRASHED', `instance ${this.label} is not running`);
    this.executions++;
    await this.runtime.gateFor('execute', this.label);
    if (this.script.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.script.delayMs));
    if (this.script.failExecutions) throw new SibylError('RUNTIME_FAILED', `instance ${this.label} fails every execution`);
    const [x] = concatInputs(members);
    const input = x!.data as Float32Array;
    const y = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) y[i] = input[i]! + this.script.offset;
    return { outputs: [{ name: outputNames[0] ?? 'y', datatype: 'FP32', shape: [...x!.shape], data: y }], inferMs: 0, outputMs: 0 };
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    this.alive = false;
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

  async loadInstance(spec: InstanceSpec): Promise<LoadedInstance> {
    this.loads.push(spec.label);
    await this.gateFor('load', spec.label);
    const text = (await readFile(spec.artifactPath, 'utf8')).trim();
    if (text === 'fail' || text.startsWith('fail ')) throw new Error(text.slice(4).trim() || 'scripted load failure');
    const add = /^add (-?[0-9.]+)(?: after ([0-9]+))?(?: input ([A-Za-z_][A-Za-z0-9_]*))?$/.exec(text);
    if (add === null && text !== 'fail-runs') throw new Error(`scripted runtime: cannot read script ${JSON.stringify(text)} in ${spec.artifactPath}`);
    const script = { offset: add === null ? 0 : Number(add[1]), failExecutions: text === 'fail-runs', delayMs: add?.[2] === undefined ? 0 : Number(add[2]) };
    const instance = new ScriptedInstance(spec.label, script, this);
    this.instances.push(instance);
    const signature = structuredClone(SCRIPTED_SIGNATURE);
    if (add?.[3] !== undefined) signature.inputs[0]!.name = add[3];
    return { instance, signature };
  }
}
