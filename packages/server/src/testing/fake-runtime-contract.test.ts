// FakeInstance, which the scheduler tests drive by hand, keeps the runtime contract when answered
// in order (here by FakeRuntime's answer function): the contract is what the scheduler may rely on.
import type { Tensor } from '@sibyl/protocol';
import { SibylError } from '@sibyl/protocol';
import { FakeInstance, FakeRuntime } from './fake-runtime.ts';
import { runtimeContract } from './runtime-contract.ts';

const x = (rows: number, value: (i: number) => number): Tensor[] => [{ name: 'x', datatype: 'FP64', shape: [rows, 2], data: Float64Array.from({ length: rows * 2 }, (_, i) => value(i)) }];
const signature = {
  inputs: [{ name: 'x', datatype: 'FP64' as const, shape: [-1, 2] }],
  outputs: [
    { name: 'y', datatype: 'FP64' as const, shape: [-1, 2] },
    { name: 'z', datatype: 'FP64' as const, shape: [-1, 2] },
  ],
};

runtimeContract('fake', {
  runtime: () =>
    new FakeRuntime({
      signature,
      answer: (execution) => {
        if ((execution.inputs[0]!.data as Float64Array).includes(13)) execution.fail(new SibylError('RUNTIME_FAILED', 'the fake model fails on 13'));
        else execution.finish();
      },
    }),
  artifactFileName: 'model.fake',
  model: { artifact: 'fake', signature, rows: (rows, seed) => x(rows, (i) => seed + i / 4) },
  failing: { artifact: 'fake', good: (rows, seed) => x(rows, (i) => seed + i / 4), bad: (rows, seed) => x(rows, (i) => (i === 2 * rows - 1 ? 13 : seed + i / 4)) },
  corrupt: 'not fake',
  crash: (instance) => {
    if (!(instance instanceof FakeInstance)) throw new Error(`${instance.label} is not a FakeInstance`);
    instance.crash();
  },
});
