// A job's ChunkProcessor on a distributed worker: the same construction runBatchJob makes for a
// single-process run (the target's signature, the row mapping, the request size and concurrency),
// so a chunk scored by a worker is stored exactly as the single-process run stores it.
import { SibylError } from '@sibyl/protocol';
import type { BatchJob } from '../../config/batch-job-config.ts';
import type { Clock } from '../../core/clock.ts';
import type { BatchScorer } from '../batch-scorer.ts';
import { DEFAULT_REQUEST_ROWS } from '../batch-runner.ts';
import type { ChunkProcessor } from '../chunk-processor.ts';
import type { ColumnarCommit } from '../columnar-predictions.ts';
import type { PredictionStore } from '../prediction-store.ts';
import { RowMapper } from '../row-mapping.ts';
import { createChunkProcessor } from '../score-chunk.ts';

/** @throws SibylError when the target lacks an output the job stores (or cannot be loaded). */
export async function jobChunkProcessor(job: BatchJob, deps: { store: PredictionStore; scorer: BatchScorer; clock: Clock; commit?: ColumnarCommit }): Promise<ChunkProcessor> {
  const signature = await deps.scorer.signature();
  const mapper = new RowMapper(job.inputs, job.key, signature, job.predictionModel);
  const unknown = (job.outputs ?? []).filter((o) => !signature.outputs.some((t) => t.name === o));
  if (unknown.length > 0) throw new SibylError('OUTPUT_UNKNOWN', `the job stores ${unknown.map((o) => `'${o}'`).join(', ')}, which model '${job.predictionModel}' does not have; its outputs are ${signature.outputs.map((o) => `'${o}'`).join(', ')}`);
  const requestRows = signature.maxBatchSize <= 0 ? 1 : (job.requestRows ?? signature.configuredMaxBatchSize ?? DEFAULT_REQUEST_ROWS);
  return createChunkProcessor({
    store: deps.store,
    scorer: deps.scorer,
    mapper,
    clock: deps.clock,
    predictionModel: job.predictionModel,
    requestRows,
    concurrency: job.concurrency ?? Math.max(2, 2 * signature.instanceCount),
    ...(job.outputs === undefined ? {} : { outputs: job.outputs }),
    ...(deps.commit === undefined ? {} : { commit: deps.commit }),
  });
}
