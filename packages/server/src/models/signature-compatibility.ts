// Whether a candidate version of a model can take the requests its clients send to the version
// that serves them now. Pure: a table of rules over two signatures.
//
// Compatible means that every request valid for the reference is valid for the candidate, and
// that every output a client reads of the reference comes back with the same name, datatype and
// fixed sizes:
// - inputs: the same names (ONNX has no optional inputs, so an added input is one that existing
//   requests lack), the same datatypes, the same rank, and each dimension of the candidate
//   either variable (-1) or equal to a fixed one of the reference (a candidate may widen a fixed
//   dimension to -1, never fix a variable one or change a fixed size);
// - outputs: every output of the reference is still there with the same datatype and rank, and
//   each dimension the reference fixes has the same size in the candidate (a variable one may
//   become fixed); an added output is compatible (clients ask for outputs by name).
import type { TensorMetadata } from '@sibyl/protocol';
import { checkAgainstSchema } from '../config/validate.ts';
import { SignatureReferenceSchema } from '../state/snapshot-schema.ts';

/** The part of a signature clients depend on. */
export interface SignatureShape {
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** A candidate input dimension accepts what the reference's accepted: it is variable or the same size. */
const inputDimFits = (reference: number, candidate: number): boolean => candidate === -1 || candidate === reference;
/** A candidate output dimension gives what the reference's gave: a fixed size stays the same. */
const outputDimFits = (reference: number, candidate: number): boolean => reference === -1 || candidate === reference;

function tensorChanges(
  kind: 'input' | 'output',
  reference: readonly TensorMetadata[],
  candidate: readonly TensorMetadata[],
  dimFits: (reference: number, candidate: number) => boolean,
): string[] {
  const changes: string[] = [];
  for (const ref of reference) {
    const cand = candidate.find((t) => t.name === ref.name);
    if (cand === undefined) {
      changes.push(`${kind} '${ref.name}' removed`);
      continue;
    }
    if (cand.datatype !== ref.datatype) changes.push(`${kind} '${ref.name}' datatype ${ref.datatype} → ${cand.datatype}`);
    const fits = cand.shape.length === ref.shape.length && ref.shape.every((d, i) => dimFits(d, cand.shape[i]!));
    if (!fits) changes.push(`${kind} '${ref.name}' shape ${shapeText(ref.shape)} → ${shapeText(cand.shape)}`);
  }
  return changes;
}

/**
 * The changes of `candidate` that break clients of `reference`, in words (`input 'x' datatype
 * FP32 → INT64`, `input 'z' added`, `output 'y' removed`, …); empty when compatible.
 */
export function signatureChanges(reference: SignatureShape, candidate: SignatureShape): string[] {
  const added = candidate.inputs.filter((c) => !reference.inputs.some((r) => r.name === c.name)).map((c) => `input '${c.name}' added`);
  return [
    ...tensorChanges('input', reference.inputs, candidate.inputs, inputDimFits),
    ...added,
    ...tensorChanges('output', reference.outputs, candidate.outputs, outputDimFits),
  ];
}

/** The signature a model's default traffic is served with, and the version it came from (persisted). */
export interface SignatureReference {
  readonly version: number;
  readonly signature: SignatureShape;
}

/**
 * Why a version's signature keeps it from the default traffic, or undefined: no reference yet,
 * its signature unknown (never loaded), the reference's own version, accepted by the config, or
 * compatible.
 */
export function incompatibilityOf(
  reference: SignatureReference | undefined,
  version: number,
  signature: SignatureShape | undefined,
  accepted: boolean,
): string | undefined {
  if (reference === undefined || signature === undefined || reference.version === version || accepted) return undefined;
  const changes = signatureChanges(reference.signature, signature);
  return changes.length === 0 ? undefined : `signature incompatible with version ${reference.version}: ${changes.join(', ')}`;
}

/**
 * A signature reference read back from the state store (or a restored snapshot, so hostile): the
 * reference, or undefined when the value is absent or not one of the shape the state store's
 * schema gives it (the next version to serve the default traffic then becomes the reference).
 */
export function parseSignatureReference(value: unknown): SignatureReference | undefined {
  return checkAgainstSchema(SignatureReferenceSchema, value).length === 0 ? (value as SignatureReference) : undefined;
}

/** The version the default traffic goes to, as the signature reference decision sees it. */
export interface RouteFacts {
  version: number;
  /** READY (a generation serves). */
  serving: boolean;
  signature: SignatureShape | undefined;
  /** Its signature is incompatible with the reference (and not accepted). */
  incompatible: boolean;
  /** The stable label points at it. */
  byStable: boolean;
}

/**
 * The new signature reference, or undefined when it stays. The default route's signature becomes
 * the reference when the route serves and is compatible, is named by the stable label, or when the
 * reference's version can never serve again (`referenceGone`: it left the repository and nothing
 * of it is loaded — a rollback by deleting the newer version, or a restart after the old one was
 * removed).
 */
export function nextSignatureReference(reference: SignatureReference | undefined, route: RouteFacts | undefined, referenceGone: boolean): SignatureReference | undefined {
  if (route === undefined || !route.serving || route.signature === undefined) return undefined;
  if (route.incompatible && !route.byStable && !referenceGone) return undefined;
  const same = reference !== undefined && reference.version === route.version && JSON.stringify(reference.signature) === JSON.stringify(route.signature);
  return same ? undefined : { version: route.version, signature: route.signature };
}
