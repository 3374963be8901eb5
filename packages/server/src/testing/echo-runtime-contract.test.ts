// The echo runtime, which carries BYTES byte for byte in the codec tests, keeps the runtime contract.
import type { Tensor } from '@sibyl/protocol';
import { ECHO_SIGNATURE, EchoRuntime } from './echo-runtime.ts';
import { runtimeContract } from './runtime-contract.ts';

const text = new TextEncoder();
/** Row i: some bytes that are not UTF-8, then the seed and the row number as text. */
const input = (rows: number, element: (i: number) => string): Tensor[] => [
  { name: 'input', datatype: 'BYTES', shape: [rows], data: Array.from({ length: rows }, (_, i) => Uint8Array.from([0xff, 0xfe, ...text.encode(element(i))])) },
];
const plainInput = (rows: number, element: (i: number) => string): Tensor[] => [
  { name: 'input', datatype: 'BYTES', shape: [rows], data: Array.from({ length: rows }, (_, i) => text.encode(element(i))) },
];

runtimeContract('echo', {
  runtime: () => new EchoRuntime(),
  artifactFileName: 'model.onnx',
  model: { artifact: 'echo', signature: ECHO_SIGNATURE, rows: (rows, seed) => input(rows, (i) => `${seed}-${i}`) },
  failing: {
    artifact: 'echo fail-on poison',
    good: (rows, seed) => plainInput(rows, (i) => `${seed}-${i}`),
    bad: (rows, seed) => plainInput(rows, (i) => (i === rows - 1 ? 'poison' : `${seed}-${i}`)),
  },
  corrupt: 'this is not a script',
});
