// The model manager on a manual clock, with models in memory (MemoryModelStore), state in memory
// and fake instances answered by hand: no folders, no HTTP, no sleeps. Loads can be held to look
// at the manager mid-load (or to make one hang past its deadline).
import pino from 'pino';
import { ModelManager, type ModelManagerOptions } from '../models/model-manager.ts';
import { MemoryModelStore } from '../repository/memory-model-store.ts';
import type { InstanceSpec, LoadedInstance, Runtime } from '../runtimes/runtime.ts';
import type { StateSnapshot, StateStore } from '../state/state-store.ts';
import { FakeInstance } from './fake-runtime.ts';
import { ManualClock } from './manual-clock.ts';

const SIGNATURE = {
  inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 1] }],
  outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [-1, 1] }],
};

/**
 * Loads fake instances of what a MemoryModelStore holds: an artifact `fake` loads, one starting
 * with `fail` fails to load with that text. `hold()` keeps loads waiting until `release()`.
 */
export class StoreRuntime implements Runtime {
  readonly name = 'store';
  readonly platform = 'fake';
  readonly instances: FakeInstance[] = [];
  private holding = false;
  private readonly held: (() => void)[] = [];

  constructor(private readonly store: MemoryModelStore) {}

  async loadInstance(spec: InstanceSpec): Promise<LoadedInstance> {
    const [, model, version] = /^memory:\/\/([^/]+)\/(\d+)\//.exec(spec.artifactPath)!;
    const text = new TextDecoder().decode(await this.store.readArtifact(model!, Number(version)));
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    if (text.startsWith('fail')) throw new Error(`cannot load ${spec.artifactPath}: ${text}`);
    const instance = new FakeInstance(spec.label);
    this.instances.push(instance);
    return { instance, signature: structuredClone(SIGNATURE) };
  }

  /** Loads from now on wait for release(). */
  hold(): void {
    this.holding = true;
  }

  get loadsHeld(): number {
    return this.held.length;
  }

  /** Lets every held load go on; loads from now on are not held. */
  release(): void {
    this.holding = false;
    for (const resolve of this.held.splice(0)) resolve();
  }

  /** Lets the load held longest go on; later loads are still held. */
  releaseOne(): void {
    this.held.shift()?.();
  }

  /** The instance of `model:version` loaded last. */
  instanceOf(model: string, version: number): FakeInstance {
    return this.instances.filter((i) => i.label.startsWith(`${model}:${version}#`)).at(-1)!;
  }
}

/** A state store in memory (values cloned in and out, as a real store would serialise them). */
export class MemoryStateStore implements StateStore {
  private readonly data = new Map<string, Map<string, unknown>>();
  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    return structuredClone(this.data.get(namespace)?.get(key)) as T | undefined;
  }
  async list<T>(namespace: string): Promise<Map<string, T>> {
    return new Map([...(this.data.get(namespace) ?? [])].map(([k, v]) => [k, structuredClone(v) as T]));
  }
  async put(namespace: string, key: string, value: unknown): Promise<void> {
    if (!this.data.has(namespace)) this.data.set(namespace, new Map());
    this.data.get(namespace)!.set(key, structuredClone(value));
  }
  async delete(namespace: string, key: string): Promise<boolean> {
    return this.data.get(namespace)?.delete(key) ?? false;
  }
  export(): Promise<StateSnapshot> {
    throw new Error('not used');
  }
  import(): Promise<void> {
    throw new Error('not used');
  }
  async close(): Promise<void> {}
}

export interface ManagerHarness {
  clock: ManualClock;
  store: MemoryModelStore;
  runtime: StoreRuntime;
  manager: ModelManager;
}

/** A manager in poll mode on a manual clock at 1000 ms, with no residency limits; `options` override. The caller closes it. */
export function createManagerHarness(options: Partial<ModelManagerOptions> = {}): ManagerHarness {
  const clock = new ManualClock(1_000);
  const store = new MemoryModelStore();
  const runtime = new StoreRuntime(store);
  const manager = new ModelManager({
    repository: store,
    runtime,
    clock,
    machine: { cpuCount: 2 },
    log: pino({ level: 'silent' }),
    store: new MemoryStateStore(),
    controlMode: 'poll',
    pollIntervalMs: 60_000,
    startupModels: [],
    limits: { maxLoadedVersions: 0, memoryBudgetBytes: 0 },
    loadConcurrency: 2,
    drainTimeoutMs: 30_000,
    ...options,
  });
  return { clock, store, runtime, manager };
}

/** Lets promises and zero-delay clock timers run (no time passes). */
export async function settle(clock: ManualClock): Promise<void> {
  for (let i = 0; i < 20; i++) {
    clock.advance(0);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
