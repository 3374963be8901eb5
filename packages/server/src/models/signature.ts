// The signature a model version is served with: what the model file declares, narrowed by the
// model's config.yaml, plus whether and how far it batches.
import type { TensorMetadata } from '@sibyl/protocol';
import type { ModelConfig, TensorConfig } from '../config/model-config.ts';
import type { ModelSignature } from '../runtimes/runtime.ts';

/** Rows one execution carries by default when the model batches and the config does not say. */
export const DEFAULT_MAX_BATCH_SIZE = 64;

export interface ServedSignature {
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** 0: the first dimension is not a batch dimension; shapes are checked in full. */
  maxBatchSize: number;
  /** BYTES inputs must be valid UTF-8 (see ModelSignature.bytesAsText). */
  bytesAsText?: boolean;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Whether every input and output has a variable first dimension (a batch dimension). */
export function isBatchable(signature: ModelSignature): boolean {
  return [...signature.inputs, ...signature.outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
}

function applyOverrides(kind: 'inputs' | 'outputs', declared: readonly TensorMetadata[], overrides: readonly TensorConfig[], problems: string[]): TensorMetadata[] {
  const result = declared.map((t) => ({ ...t, shape: [...t.shape] }));
  overrides.forEach((override, i) => {
    const field = `${kind}[${i}]`;
    const target = result.find((t) => t.name === override.name);
    if (target === undefined) {
      problems.push(`${field}.name: '${override.name}' is not one of the model's ${kind}; the model file declares: ${declared.map((t) => t.name).join(', ')}`);
      return;
    }
    if (override.datatype !== undefined && override.datatype !== target.datatype) {
      problems.push(`${field}.datatype: ${override.datatype} does not match the model file, which declares ${target.datatype} for '${target.name}'`);
    }
    if (override.shape !== undefined) {
      const fits =
        override.shape.length === target.shape.length && override.shape.every((d, k) => target.shape[k] === -1 || d === target.shape[k]);
      if (!fits) {
        problems.push(
          `${field}.shape: ${shapeText(override.shape)} does not fit the model file's ${shapeText(target.shape)} for '${target.name}'; a config may fix a variable (-1) dimension but not change the rank or a fixed size`,
        );
      } else {
        target.shape = [...override.shape];
      }
    }
  });
  return result;
}

/**
 * Combines the model file's signature with the config. Returns the problems instead of throwing,
 * each naming the config field; the caller marks the version UNAVAILABLE with them.
 */
export function resolveSignature(declared: ModelSignature, config: ModelConfig): { signature: ServedSignature } | { problems: string[] } {
  const problems: string[] = [];
  const inputs = applyOverrides('inputs', declared.inputs, config.inputs, problems);
  const outputs = applyOverrides('outputs', declared.outputs, config.outputs, problems);
  const batchable = isBatchable({ inputs, outputs });
  const maxBatchSize = config.maxBatchSize ?? (batchable ? DEFAULT_MAX_BATCH_SIZE : 0);
  if (maxBatchSize > 0 && !batchable) {
    const fixed = [...inputs, ...outputs].find((t) => t.shape.length === 0 || t.shape[0] !== -1)!;
    problems.push(
      `maxBatchSize: ${maxBatchSize} needs a variable first dimension on every input and output, but '${fixed.name}' has shape ${shapeText(fixed.shape)}; use maxBatchSize: 0`,
    );
  }
  if (problems.length > 0) return { problems };
  return { signature: declared.bytesAsText === true ? { inputs, outputs, maxBatchSize, bytesAsText: true } : { inputs, outputs, maxBatchSize } };
}
