// A runtime that answers each execution with its inputs, renamed to the outputs asked for, and
// carries BYTES byte for byte (unlike onnxruntime, which carries them as text). Tests use it to pin
// that the server's codecs never change bytes on the way. Its artifact is a one-line script:
//
//   echo                 echoes input `input` (BYTES [-1]) as output `output`
//   echo fail-on <text>  the same, but an execution holding the element <text> fails (RUNTIME_FAILED)
import { readFile } from 'node:fs/promises';
import { SibylError, type BytesElements, type Tensor } from '@sibyl/protocol';
import { concatInputs } from '../core/batch-tensors.ts';
import type { ExecutionResult, Instance, InstanceExit, InstanceSpec, LoadedInstance, ModelSignature, Runtime } from '../runtimes/runtime.ts';

/** The signature every echo model has. */
export const ECHO_SIGNATURE: ModelSignature = {
  inputs: [{ name: 'input', datatype: 'BYTES', shape: [-1] }],
  outputs: [{ name: 'output', datatype: 'BYTES', shape: [-1] }],
};

export class EchoInstance implements Instance {
  alive = true;
  readonly exited: Promise<InstanceExit>;
  /** The BYTES elements of every execution's input, as the runtime received them (copies). */
  readonly seen: Uint8Array[][] = [];
  private exit!: (exit: InstanceExit) => void;

  constructor(
    readonly label: string,
    private readonly failOn: Uint8Array | undefined,
  ) {
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  async execute(members: readonly (readonly Tensor[])[], outputNames: readonly string[]): Promise<ExecutionResult> {
    if (!this.alive) throw new SibylError('INSTANCE_CRASHED', `instance ${this.label} is not running`);
    const [input] = concatInputs(members);
    const elements = input!.data as BytesElements;
    this.seen.push(elements.map((e) => e.slice()));
    const { failOn } = this;
    if (failOn !== undefined && elements.some((e) => Buffer.from(e).equals(failOn))) {
      throw new SibylError('RUNTIME_FAILED', `instance ${this.label} fails on the element '${new TextDecoder().decode(failOn)}'`);
    }
    // Each output gets its own copy: the returned tensors are the caller's (see Instance.execute).
    return { outputs: outputNames.map((name) => ({ ...input!, name, data: elements.map((e) => e.slice()) })), inferMs: 0, outputMs: 0 };
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    this.alive = false;
    this.exit({ expected: true, reason: 'closed' });
  }
}

export class EchoRuntime implements Runtime {
  readonly name = 'echo';
  readonly platform = 'echo';
  /** Every instance loaded, in order. */
  readonly instances: EchoInstance[] = [];

  async loadInstance(spec: InstanceSpec, signal?: AbortSignal): Promise<LoadedInstance> {
    if (signal?.aborted === true) throw new Error(`load of ${spec.artifactPath} aborted`);
    const script = (await readFile(spec.artifactPath, 'utf8')).trim();
    const match = /^echo(?: fail-on (.+))?$/.exec(script);
    if (match === null) throw new Error(`echo runtime: cannot read script ${JSON.stringify(script.slice(0, 80))} in ${spec.artifactPath}`);
    const instance = new EchoInstance(spec.label, match[1] === undefined ? undefined : new TextEncoder().encode(match[1]));
    this.instances.push(instance);
    return { instance, signature: structuredClone(ECHO_SIGNATURE) };
  }
}
