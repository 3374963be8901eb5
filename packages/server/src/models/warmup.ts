// Warm-up: executions run on every instance of a version before it reports READY, so the first
// real requests do not pay for onnxruntime's lazy initialisation (Triton's model_warmup, TF
// Serving's assets.extra warm-up). Inputs are generated from the signature, or read from a file
// of V2 inference requests.
import { readFile } from 'node:fs/promises';
import { SibylError, TYPED_ARRAY, decodeInferRequest, elementCount, toBFloat16Bits, toFloat16Bits, type Tensor, type TensorMetadata } from '@sibyl/protocol';
import type { WarmupConfig } from '../config/model-config.ts';
import { seededRandom, type Random } from '../core/random.ts';
import type { Instance } from '../runtimes/runtime.ts';
import type { ProbeRequest } from '../scheduling/scheduler.ts';
import type { ServedSignature } from './signature.ts';
import { validateInferRequest } from './validate-request.ts';

/** One warm-up execution: its inputs, and where they came from (for messages). */
export interface WarmupSample {
  source: string;
  inputs: Tensor[];
}

function generatedData(meta: TensorMetadata, count: number, kind: 'random' | 'zero', random: Random): Tensor['data'] {
  const value = (): number => (kind === 'zero' ? 0 : random());
  if (meta.datatype === 'BYTES') {
    const text = new TextEncoder();
    return Array.from({ length: count }, () => text.encode(kind === 'zero' ? '' : `warmup ${Math.floor(random() * 1000)}`));
  }
  const data = new TYPED_ARRAY[meta.datatype](count);
  for (let i = 0; i < count; i++) {
    switch (meta.datatype) {
      case 'FP32':
      case 'FP64':
        data[i] = value();
        break;
      case 'FP16':
        data[i] = toFloat16Bits(value());
        break;
      case 'BF16':
        data[i] = toBFloat16Bits(value());
        break;
      case 'INT64':
      case 'UINT64':
        data[i] = BigInt(Math.round(value()));
        break;
      default:
        // Integers and booleans: 0 or 1, valid for any index or mask input.
        data[i] = Math.round(value());
    }
  }
  return data;
}

/**
 * Generated inputs for each batch size (one sample for a model that does not batch): the
 * signature's shapes with the batch dimension set to the size and any other variable dimension
 * set to 1.
 */
export function generatedSamples(config: WarmupConfig, signature: ServedSignature): WarmupSample[] {
  const random = seededRandom(0x5eed);
  const sizes = signature.maxBatchSize > 0 ? config.batchSizes : config.batchSizes.slice(0, 1);
  return sizes.map((rows) => ({
    source: signature.maxBatchSize > 0 ? `generated batch of ${rows}` : 'generated input',
    inputs: signature.inputs.map((meta) => {
      const shape = meta.shape.map((d, k) => (k === 0 && signature.maxBatchSize > 0 ? rows : d === -1 ? 1 : d));
      return { name: meta.name, datatype: meta.datatype, shape, data: generatedData(meta, elementCount(shape), config.data, random) };
    }),
  }));
}

/**
 * The scheduler's probe of a version (SchedulerOptions.probe): one generated request of one row
 * (random data, as warm-up's default), asking for every output — made when asked, since the
 * instance takes its buffers.
 */
export function probeRequest(signature: ServedSignature): ProbeRequest {
  const sample = generatedSamples({ batchSizes: [1], data: 'random', samplesPath: undefined, iterations: 1 }, signature)[0]!;
  return { inputs: sample.inputs, outputNames: signature.outputs.map((o) => o.name), rows: 1 };
}

/**
 * The requests of a samples file: one V2 inference request in JSON, a JSON array of them, or
 * JSON Lines. Each is checked against the signature.
 * @throws Error naming the file, the sample and what is wrong.
 */
export async function samplesFromFile(file: string, signature: ServedSignature, model: string): Promise<WarmupSample[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the warm-up samples file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { cause: err });
  }
  const trimmed = text.trim();
  let documents: string[];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new Error(`warm-up samples file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    documents = (parsed as unknown[]).map((d) => JSON.stringify(d));
  } else {
    const whole = (() => {
      try {
        JSON.parse(trimmed);
        return true;
      } catch {
        return false;
      }
    })();
    documents = whole ? [trimmed] : trimmed.split('\n').filter((l) => l.trim() !== '');
  }
  if (documents.length === 0) throw new Error(`warm-up samples file ${file} holds no requests; expected V2 inference requests (JSON or JSON Lines)`);
  return documents.map((doc, i) => {
    const source = `sample ${i + 1} of ${file}`;
    try {
      const request = decodeInferRequest(doc);
      validateInferRequest(request, signature, model);
      return { source, inputs: request.inputs };
    } catch (err) {
      throw new Error(`warm-up ${source}: ${(err as Error).message}`, { cause: err });
    }
  });
}

/** A copy whose buffers the instance may take (executions transfer their inputs' buffers). */
function copyOf(t: Tensor): Tensor {
  return { ...t, shape: [...t.shape], data: Array.isArray(t.data) ? t.data.map((b) => b.slice()) : t.data.slice() };
}

/**
 * Runs every sample `iterations` times on every instance, one instance after another.
 * @throws Error naming the sample and the instance that failed.
 */
export async function runWarmup(instances: readonly Instance[], samples: readonly WarmupSample[], iterations: number, signature: ServedSignature): Promise<void> {
  const outputNames = signature.outputs.map((o) => o.name);
  for (const instance of instances) {
    for (const sample of samples) {
      for (let i = 0; i < iterations; i++) {
        try {
          await instance.execute([sample.inputs.map(copyOf)], outputNames);
        } catch (err) {
          const message = err instanceof SibylError || err instanceof Error ? err.message : String(err);
          throw new Error(`warm-up failed: ${sample.source} on instance ${instance.label}: ${message}`, { cause: err });
        }
      }
    }
  }
}
