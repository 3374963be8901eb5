import type { TensorMetadata } from '@sibyl/protocol';
import { describe, expect, it } from 'vitest';
import { incompatibilityOf, nextSignatureReference, parseSignatureReference, signatureChanges, type RouteFacts, type SignatureShape } from './signature-compatibility.ts';

const t = (name: string, datatype: TensorMetadata['datatype'], shape: number[]): TensorMetadata => ({ name, datatype, shape });
const sig = (inputs: TensorMetadata[], outputs: TensorMetadata[]): SignatureShape => ({ inputs, outputs });

const REFERENCE = sig([t('x', 'FP32', [-1, 4])], [t('y', 'FP32', [-1, 3])]);

describe('signatureChanges', () => {
  const cases: [string, SignatureShape, string[]][] = [
    ['the same signature', REFERENCE, []],
    ['a fixed input dimension widened to -1', sig([t('x', 'FP32', [-1, -1])], [t('y', 'FP32', [-1, 3])]), []],
    ['a variable output dimension fixed', sig([t('x', 'FP32', [-1, 4])], [t('y', 'FP32', [8, 3])]), []],
    ['an output added', sig([t('x', 'FP32', [-1, 4])], [t('y', 'FP32', [-1, 3]), t('p', 'FP32', [-1])]), []],
    ['an input datatype changed', sig([t('x', 'INT64', [-1, 4])], [t('y', 'FP32', [-1, 3])]), ["input 'x' datatype FP32 → INT64"]],
    ['an input renamed', sig([t('features', 'FP32', [-1, 4])], [t('y', 'FP32', [-1, 3])]), ["input 'x' removed", "input 'features' added"]],
    ['an input added (ONNX inputs are all required)', sig([t('x', 'FP32', [-1, 4]), t('z', 'FP32', [-1, 1])], [t('y', 'FP32', [-1, 3])]), ["input 'z' added"]],
    ['a fixed input size changed', sig([t('x', 'FP32', [-1, 5])], [t('y', 'FP32', [-1, 3])]), ["input 'x' shape [-1, 4] → [-1, 5]"]],
    ['a variable input dimension fixed (the batch dimension)', sig([t('x', 'FP32', [1, 4])], [t('y', 'FP32', [-1, 3])]), ["input 'x' shape [-1, 4] → [1, 4]"]],
    ['an input rank changed', sig([t('x', 'FP32', [-1, 2, 2])], [t('y', 'FP32', [-1, 3])]), ["input 'x' shape [-1, 4] → [-1, 2, 2]"]],
    ['an output removed', sig([t('x', 'FP32', [-1, 4])], [t('p', 'FP32', [-1, 3])]), ["output 'y' removed"]],
    ['an output datatype changed', sig([t('x', 'FP32', [-1, 4])], [t('y', 'FP64', [-1, 3])]), ["output 'y' datatype FP32 → FP64"]],
    ['a fixed output size changed', sig([t('x', 'FP32', [-1, 4])], [t('y', 'FP32', [-1, 4])]), ["output 'y' shape [-1, 3] → [-1, 4]"]],
    ['a fixed output dimension made variable', sig([t('x', 'FP32', [-1, 4])], [t('y', 'FP32', [-1, -1])]), ["output 'y' shape [-1, 3] → [-1, -1]"]],
    [
      'several changes, inputs first',
      sig([t('x', 'INT64', [-1, 4]), t('z', 'BYTES', [-1])], [t('y', 'INT32', [-1])]),
      ["input 'x' datatype FP32 → INT64", "input 'z' added", "output 'y' datatype FP32 → INT32", "output 'y' shape [-1, 3] → [-1]"],
    ],
  ];
  it.each(cases)('%s', (_name, candidate, expected) => {
    expect(signatureChanges(REFERENCE, candidate)).toEqual(expected);
  });

  it('matches tensors by name, not position: inputs and outputs in another order are compatible', () => {
    const two = sig([t('x', 'FP32', [-1, 4]), t('z', 'INT64', [-1, 1])], [t('y', 'FP32', [-1, 3]), t('p', 'FP32', [-1])]);
    const reordered = sig([t('z', 'INT64', [-1, 1]), t('x', 'FP32', [-1, 4])], [t('p', 'FP32', [-1]), t('y', 'FP32', [-1, 3])]);
    expect(signatureChanges(two, reordered)).toEqual([]);
  });

  it('is not symmetric: narrowing an input is incompatible where widening it is not', () => {
    const wide = sig([t('x', 'FP32', [-1, -1])], [t('y', 'FP32', [-1, 3])]);
    expect(signatureChanges(REFERENCE, wide)).toEqual([]);
    expect(signatureChanges(wide, REFERENCE)).toEqual(["input 'x' shape [-1, -1] → [-1, 4]"]);
  });
});

describe('parseSignatureReference', () => {
  it('reads back what was stored', () => {
    const stored = JSON.parse(JSON.stringify({ version: 2, signature: REFERENCE }));
    expect(parseSignatureReference(stored)).toEqual({ version: 2, signature: REFERENCE });
  });
  it.each([
    ['nothing', undefined],
    ['a number', 3],
    ['no version', { signature: REFERENCE }],
    ['version 0', { version: 0, signature: REFERENCE }],
    ['inputs not a list', { version: 1, signature: { inputs: {}, outputs: [] } }],
    ['a shape of text', { version: 1, signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: ['a'] }], outputs: [] } }],
    ['a dimension below -1', { version: 1, signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-2] }], outputs: [] } }],
    ['a rank beyond 64', { version: 1, signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: Array.from({ length: 65 }, () => 1) }], outputs: [] } }],
    ['a field the server never writes', { version: 1, signature: REFERENCE, note: 'x' }],
  ])('ignores %s', (_name, value) => {
    expect(parseSignatureReference(value)).toBeUndefined();
  });
});

describe('incompatibilityOf', () => {
  const retyped = sig([t('x', 'INT64', [-1, 4])], [t('y', 'FP32', [-1, 3])]);
  const reference = { version: 1, signature: REFERENCE };
  it.each([
    ['no reference yet (the first version)', undefined, 2, retyped, false, undefined],
    ['a version never loaded (signature unknown)', reference, 2, undefined, false, undefined],
    ["the reference's own version", reference, 1, retyped, false, undefined],
    ['accepted by the config', reference, 2, retyped, true, undefined],
    ['compatible', reference, 2, REFERENCE, false, undefined],
    ['incompatible', reference, 2, retyped, false, "signature incompatible with version 1: input 'x' datatype FP32 → INT64"],
  ] as const)('%s', (_name, ref, version, signature, accepted, expected) => {
    expect(incompatibilityOf(ref, version, signature, accepted)).toBe(expected);
  });
});

describe('nextSignatureReference', () => {
  const OTHER = sig([t('x', 'INT64', [-1, 4])], [t('y', 'FP32', [-1, 3])]);
  const route = (version: number, signature: SignatureShape, more: Partial<RouteFacts> = {}): RouteFacts => ({ version, serving: true, signature, incompatible: false, byStable: false, ...more });
  const ref = { version: 1, signature: REFERENCE };
  const cases: [string, Parameters<typeof nextSignatureReference>, ReturnType<typeof nextSignatureReference>][] = [
    ['the first version that serves sets it', [undefined, route(1, REFERENCE), false], ref],
    ['the same route and signature keep it', [ref, route(1, REFERENCE), false], undefined],
    ['a compatible newer version takes it over', [ref, route(2, REFERENCE), false], { version: 2, signature: REFERENCE }],
    ['an incompatible route does not', [ref, route(2, OTHER, { incompatible: true }), false], undefined],
    ['an incompatible route named by stable does', [ref, route(2, OTHER, { incompatible: true, byStable: true }), false], { version: 2, signature: OTHER }],
    ['an incompatible route does when the reference is gone', [ref, route(2, OTHER, { incompatible: true }), true], { version: 2, signature: OTHER }],
    ['a route that does not serve never does', [undefined, route(2, REFERENCE, { serving: false }), false], undefined],
    ['a route without a known signature never does', [undefined, route(2, REFERENCE, { signature: undefined }), false], undefined],
    ['no route, no change', [ref, undefined, true], undefined],
  ];
  it.each(cases)('%s', (_name, args, expected) => expect(nextSignatureReference(...args)).toEqual(expected));
});
