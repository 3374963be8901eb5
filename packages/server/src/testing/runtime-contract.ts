// The contract every Runtime and its instances pass (DESIGN.md, Conventions 3), stated as tests:
// what a load reports, what an execution answers, who owns the tensors, how failures, close and
// crashes behave (runtimes/runtime.ts documents each rule). The ONNX runtime and every fake run it;
// a new runtime (or a user's) runs it with a few artifacts of its own.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATATYPES, SibylError, TYPED_ARRAY, type FixedDatatype, type Tensor } from '@sibyl/protocol';
import type { ExecutionResult, Instance, LoadedInstance, ModelSignature, Runtime } from '../runtimes/runtime.ts';
import { makeTempDir, removeDir } from './onnx/model-repository.ts';

/** Inputs for `rows` rows (first dimension `rows`); different seeds give different values. Fresh tensors on every call. */
export type RowsOf = (rows: number, seed: number) => Tensor[];

export interface RuntimeContractSubject {
  /** The runtime under test (one for the whole suite). */
  runtime: () => Runtime;
  /** Name of the artifact file the runtime reads (`model.onnx`, …). */
  artifactFileName: string;
  /**
   * A deterministic model whose inputs and outputs all have a variable first dimension (-1), and
   * the signature its load must report, exactly.
   */
  model: { artifact: Uint8Array | string; signature: ModelSignature; rows: RowsOf };
  /** A model that answers `good` inputs and fails runs that contain a `bad` row (RUNTIME_FAILED). */
  failing: { artifact: Uint8Array | string; good: RowsOf; bad: RowsOf };
  /** Content the runtime refuses to load. */
  corrupt: Uint8Array | string;
  /**
   * More artifacts and the signatures their loads must report exactly (fixed first dimensions
   * that make a model unbatchable, other datatypes, …).
   */
  signatures?: readonly { name: string; artifact: Uint8Array | string; signature: ModelSignature }[];
  /** Makes an instance die on its own, as a crash would; absent when the runtime cannot simulate one. */
  crash?: (instance: Instance) => void;
}

const outcome = <T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

/** A tensor's values in a form `toEqual` compares exactly (BYTES as hex, 64-bit integers as text). */
function valuesOf(data: Tensor['data']): unknown[] {
  if (Array.isArray(data)) return data.map((bytes) => Buffer.from(bytes).toString('hex'));
  return Array.from(data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? v.toString() : v));
}

const snapshot = (tensors: readonly Tensor[]) => tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape], values: valuesOf(t.data) }));

/** Row `row` of a tensor whose first dimension is `rows`. */
function rowOf(tensor: Tensor, rows: number, row: number): unknown[] {
  const values = valuesOf(tensor.data);
  const perRow = values.length / rows;
  return values.slice(row * perRow, (row + 1) * perRow);
}

/** Waits until the callbacks of everything already settled have run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function runtimeContract(name: string, subject: RuntimeContractSubject): void {
  describe(`Runtime contract: ${name}`, () => {
    const { signature } = subject.model;
    const outputNames = signature.outputs.map((o) => o.name);
    let dir: string;
    let runtime: Runtime;
    let loads = 0;
    /** Instances to close after the suite (those a test closes itself are closed twice: allowed). */
    const opened: Instance[] = [];
    let model: Instance;
    let failing: Instance;
    let failingOutputs: string[];
    const path = (kind: string) => join(dir, kind, subject.artifactFileName);
    const load = async (kind: 'model' | 'failing', signal?: AbortSignal): Promise<LoadedInstance> => {
      const loaded = await runtime.loadInstance({ artifactPath: path(kind), threads: 1, label: `${kind}:1#${loads++}` }, signal);
      opened.push(loaded.instance);
      return loaded;
    };
    const run = (instance: Instance, members: Tensor[][], names: readonly string[] = outputNames): Promise<ExecutionResult> => instance.execute(members, names);

    beforeAll(async () => {
      dir = await makeTempDir('sibyl-runtime-contract-');
      const { mkdir, writeFile } = await import('node:fs/promises');
      const artifacts = [['model', subject.model.artifact], ['failing', subject.failing.artifact], ['corrupt', subject.corrupt]] as [string, Uint8Array | string][];
      (subject.signatures ?? []).forEach((s, i) => artifacts.push([`signature-${i}`, s.artifact]));
      for (const [kind, content] of artifacts) {
        await mkdir(join(dir, kind));
        await writeFile(path(kind), content);
      }
      runtime = subject.runtime();
      model = (await load('model')).instance;
      const loaded = await load('failing');
      failing = loaded.instance;
      failingOutputs = loaded.signature.outputs.map((o) => o.name);
    }, 30_000);

    afterAll(async () => {
      await Promise.all(opened.map((i) => i.close()));
      if (dir !== undefined) await removeDir(dir);
    });

    it('loads an instance with the label asked for, alive, reporting the artifact\'s signature (its own copy)', async () => {
      const first = await load('model');
      const second = await load('model');
      expect(first.instance.label).toMatch(/^model:1#\d+$/);
      expect(first.instance.alive).toBe(true);
      expect(first.signature).toEqual(signature);
      expect(first.signature.bytesAsText ?? false).toBe(signature.bytesAsText ?? false);
      for (const t of [...first.signature.inputs, ...first.signature.outputs]) {
        expect(DATATYPES).toContain(t.datatype);
        for (const d of t.shape) expect(Number.isInteger(d) && d >= -1).toBe(true);
      }
      expect(new Set(first.signature.inputs.map((t) => t.name)).size).toBe(first.signature.inputs.length);
      expect(new Set(first.signature.outputs.map((t) => t.name)).size).toBe(first.signature.outputs.length);
      first.signature.inputs[0]!.name = 'changed';
      expect(second.signature).toEqual(signature);
      await Promise.all([first.instance.close(), second.instance.close()]);
    });

    for (const [i, expected] of (subject.signatures ?? []).entries()) {
      it(`reports the signature of ${expected.name} as the artifact declares it`, async () => {
        const loaded = await runtime.loadInstance({ artifactPath: path(`signature-${i}`), threads: 1, label: `signature-${i}:1#0` });
        opened.push(loaded.instance);
        expect(loaded.signature).toEqual(expected.signature);
        expect(loaded.signature.bytesAsText ?? false).toBe(expected.signature.bytesAsText ?? false);
        await loaded.instance.close();
      });
    }

    it('answers the outputs asked for, in that order, with the declared datatypes and a first dimension equal to the rows given', async () => {
      for (const rows of [1, 3]) {
        const names = [...outputNames].reverse();
        const result = await run(model, [subject.model.rows(rows, 1)], names);
        expect(result.outputs.map((t) => t.name)).toEqual(names);
        for (const output of result.outputs) {
          const declared = signature.outputs.find((o) => o.name === output.name)!;
          expect(output.datatype).toBe(declared.datatype);
          expect(output.shape.length).toBe(declared.shape.length);
          expect(output.shape[0]).toBe(rows);
          declared.shape.forEach((d, i) => d >= 0 && i > 0 && expect(output.shape[i]).toBe(d));
          const elements = output.shape.reduce((a, b) => a * b, 1);
          if (output.datatype === 'BYTES') expect(Array.isArray(output.data) && output.data.every((e) => e instanceof Uint8Array)).toBe(true);
          else expect(output.data).toBeInstanceOf(TYPED_ARRAY[output.datatype as FixedDatatype]);
          expect(output.data.length).toBe(elements);
        }
        expect(Number.isFinite(result.inferMs) && result.inferMs >= 0).toBe(true);
        expect(Number.isFinite(result.outputMs) && result.outputMs >= 0).toBe(true);
      }
      const one = await run(model, [subject.model.rows(2, 1)], [outputNames[0]!]);
      expect(one.outputs.map((t) => t.name)).toEqual([outputNames[0]]);
    });

    it('concatenates members in order, and row i of a batch equals that row run alone', async () => {
      const sizes = [1, 2, 1];
      const batch = await run(model, sizes.map((rows, i) => subject.model.rows(rows, 10 + i)));
      const total = sizes.reduce((a, b) => a + b, 0);
      let offset = 0;
      for (const [i, rows] of sizes.entries()) {
        const alone = await run(model, [subject.model.rows(rows, 10 + i)]);
        for (const [o, output] of alone.outputs.entries()) {
          for (let r = 0; r < rows; r++) expect(rowOf(batch.outputs[o]!, total, offset + r)).toEqual(rowOf(output, rows, r));
        }
        offset += rows;
      }
      expect(batch.outputs.map((t) => t.shape[0])).toEqual(outputNames.map(() => total));
    });

    it('runs executions handed over together one after another, in order, each with its own rows', async () => {
      const seeds = [21, 22, 23, 24];
      const settled: number[] = [];
      const results = await Promise.all(seeds.map((seed, i) => run(model, [subject.model.rows(2, seed)]).then((r) => (settled.push(i), r))));
      expect(settled).toEqual([0, 1, 2, 3]);
      for (const [i, seed] of seeds.entries()) expect(snapshot(results[i]!.outputs)).toEqual(snapshot((await run(model, [subject.model.rows(2, seed)])).outputs));
    });

    it('hands the outputs to the caller: changing them changes no later answer', async () => {
      const first = await run(model, [subject.model.rows(2, 31)]);
      const expected = snapshot(first.outputs);
      for (const t of first.outputs) {
        if (Array.isArray(t.data)) t.data.forEach((e) => e.fill(0x7a));
        else new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).fill(7);
      }
      expect(snapshot((await run(model, [subject.model.rows(2, 31)])).outputs)).toEqual(expected);
    });

    it.each([
      ['a lone member', (f: RuntimeContractSubject['failing']) => [f.bad(1, 41)]],
      ['a batch with one bad member', (f: RuntimeContractSubject['failing']) => [f.good(2, 42), f.bad(1, 43)]],
      // Runtimes may move large batches another way than small ones (the ONNX runtime concatenates them in its worker).
      ['a large batch', (f: RuntimeContractSubject['failing']) => [f.good(10_000, 45), f.bad(10_000, 46)]],
    ])('a failed run (%s) rejects with RUNTIME_FAILED, hands the inputs back intact, and leaves the instance usable', async (_case, members) => {
      const inputs = members(subject.failing);
      const before = inputs.map(snapshot);
      const failure = await outcome(run(failing, inputs, failingOutputs));
      expect(failure.ok).toBe(false);
      const error = (failure as { error: unknown }).error;
      expect(error).toBeInstanceOf(SibylError);
      expect(error).toMatchObject({ reason: 'RUNTIME_FAILED' });
      expect((error as Error).message).not.toBe('');
      expect(inputs.map(snapshot)).toEqual(before);
      expect(failing.alive).toBe(true);
      const again = await run(failing, [subject.failing.good(2, 44)], failingOutputs);
      expect(again.outputs.map((t) => [t.name, t.shape[0]])).toEqual(failingOutputs.map((n) => [n, 2]));
    });

    it('a failing execution among queued ones fails alone', async () => {
      const [a, b, c] = await Promise.all([
        outcome(run(failing, [subject.failing.good(1, 51)], failingOutputs)),
        outcome(run(failing, [subject.failing.bad(1, 52)], failingOutputs)),
        outcome(run(failing, [subject.failing.good(1, 53)], failingOutputs)),
      ]);
      expect([a!.ok, b!.ok, c!.ok]).toEqual([true, false, true]);
      expect((b as { error: unknown }).error).toMatchObject({ reason: 'RUNTIME_FAILED' });
    });

    it('close is idempotent: the instance stops, exited says it was expected, and later executions reject with INSTANCE_CRASHED naming it', async () => {
      const { instance } = await load('model');
      let exited = false;
      void instance.exited.then(() => (exited = true));
      await settle();
      expect(exited).toBe(false);
      await Promise.all([instance.close(), instance.close()]);
      await instance.close();
      expect(instance.alive).toBe(false);
      const exit = await instance.exited;
      expect(exit.expected).toBe(true);
      expect(exit.reason).not.toBe('');
      const after = await outcome(run(instance, [subject.model.rows(1, 61)]));
      expect(after.ok).toBe(false);
      expect((after as { error: unknown }).error).toBeInstanceOf(SibylError);
      expect((after as { error: unknown }).error).toMatchObject({ reason: 'INSTANCE_CRASHED', message: expect.stringContaining(instance.label) as unknown });
    });

    it('close settles every execution handed over before it (answered, or INSTANCE_CRASHED) before it resolves', async () => {
      const { instance } = await load('model');
      const settled: boolean[] = [false, false, false];
      const runs = settled.map((_, i) => {
        const execution = run(instance, [subject.model.rows(1, 70 + i)]);
        execution.then(
          () => (settled[i] = true),
          () => (settled[i] = true),
        );
        return outcome(execution);
      });
      await instance.close();
      expect(settled).toEqual([true, true, true]);
      for (const o of await Promise.all(runs)) {
        if (o.ok) expect(o.value.outputs.map((t) => t.name)).toEqual(outputNames);
        else expect(o.error).toMatchObject({ reason: 'INSTANCE_CRASHED' });
      }
    });

    it('a load of a missing artifact rejects with a reason naming the file', async () => {
      const artifactPath = join(dir, 'missing', subject.artifactFileName);
      const failure = await outcome(runtime.loadInstance({ artifactPath, threads: 1, label: 'missing:1#0' }));
      expect(failure.ok).toBe(false);
      expect((failure as { error: unknown }).error).toBeInstanceOf(Error);
      expect(((failure as { error: Error }).error).message).toContain(artifactPath);
    });

    it('a load of a corrupt artifact rejects with a reason naming the file', async () => {
      const failure = await outcome(runtime.loadInstance({ artifactPath: path('corrupt'), threads: 1, label: 'corrupt:1#0' }));
      expect(failure.ok).toBe(false);
      expect((failure as { error: unknown }).error).toBeInstanceOf(Error);
      expect(((failure as { error: Error }).error).message).toContain(path('corrupt'));
    });

    it('a load whose signal is already aborted rejects', async () => {
      const failure = await outcome(load('model', AbortSignal.abort()));
      expect(failure.ok).toBe(false);
      expect((failure as { error: unknown }).error).toBeInstanceOf(Error);
    });

    if (subject.crash !== undefined) it('an instance that dies on its own stops, is no longer alive when its executions fail, and says so in exited', async () => {
      const { instance } = await load('model');
      const pending = run(instance, [subject.model.rows(1, 81)]).then(
        () => 'answered',
        (err: unknown) => ({ alive: instance.alive, err }),
      );
      subject.crash!(instance);
      const exit = await instance.exited;
      expect(exit.expected).toBe(false);
      expect(exit.reason).not.toBe('');
      expect(instance.alive).toBe(false);
      const first = await pending;
      if (first !== 'answered') expect(first).toMatchObject({ alive: false, err: { reason: 'INSTANCE_CRASHED' } });
      await expect(run(instance, [subject.model.rows(1, 82)])).rejects.toMatchObject({ reason: 'INSTANCE_CRASHED' });
    });
  });
}
