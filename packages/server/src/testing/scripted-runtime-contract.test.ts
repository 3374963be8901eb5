// The scripted runtime, which lifecycle tests put in place of onnxruntime, keeps the runtime contract.
import type { Tensor } from '@sibyl/protocol';
import { runtimeContract } from './runtime-contract.ts';
import { SCRIPTED_SIGNATURE, ScriptedRuntime } from './scripted-runtime.ts';

const x = (rows: number, value: (i: number) => number): Tensor[] => [{ name: 'x', datatype: 'FP32', shape: [rows, 1], data: Float32Array.from({ length: rows }, (_, i) => value(i)) }];

runtimeContract('scripted', {
  runtime: () => new ScriptedRuntime(),
  artifactFileName: 'model.onnx',
  model: { artifact: 'add 2', signature: SCRIPTED_SIGNATURE, rows: (rows, seed) => x(rows, (i) => seed + i / 4) },
  failing: { artifact: 'add 1 fail-on 13', good: (rows, seed) => x(rows, (i) => seed + i / 4), bad: (rows, seed) => x(rows, (i) => (i === rows - 1 ? 13 : seed + i / 4)) },
  corrupt: 'this is not a script',
});
