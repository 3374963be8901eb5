// Everything a run needs before the first request: the endpoint, the model metadata (fetched
// even when requests are given, to fail fast with exit code 1 on a wrong URL or model), and
// the prepared request bytes.
import { encodeInferRequest } from '@sibyl/protocol';
import type { ModelMetadata } from '@sibyl/protocol';
import type { BenchConfig } from './config.ts';
import { modelPath, parseEndpoint, prepareRequest } from './http-request.ts';
import type { Endpoint, PreparedRequest } from './http-request.ts';
import { fetchModelMetadata } from './metadata.ts';
import { encodeBodies, givenRequests, isBatched, loadInputFile, randomRequests, resolveInputSpecs } from './request-builder.ts';
import type { GivenRequest, InputSpec } from './request-builder.ts';
import type { BenchResult } from './result.ts';

export interface PreparedRun {
  readonly endpoint: Endpoint;
  readonly metadata: ModelMetadata;
  readonly requests: readonly PreparedRequest[];
  /** For the result: what was sent. */
  readonly description: BenchResult['requests'];
}

/** Metadata time limit: the run's request timeout, but at most 30 s. */
const METADATA_TIMEOUT_MS = 30_000;

/** Throws BenchError: 'unreachable' / 'metadata' from the server, 'usage' for inputs. */
export async function prepareRun(config: BenchConfig, signal?: AbortSignal): Promise<PreparedRun> {
  const endpoint = parseEndpoint(config.url);
  const metadata = await fetchModelMetadata({
    endpoint,
    url: config.url,
    model: config.model,
    modelVersion: config.modelVersion,
    headers: config.headers,
    timeoutMs: Math.min(config.timeoutMs, METADATA_TIMEOUT_MS),
    signal,
  });
  let given: GivenRequest[];
  let inputs: InputSpec[] | undefined;
  if (config.inputFile !== undefined) given = await loadInputFile(config.inputFile);
  else if (config.requests !== undefined) given = givenRequests(config.requests);
  else {
    inputs = resolveInputSpecs(metadata, config.batchSize, config.shapes);
    given = randomRequests(inputs, config.distinctRequests, config.seed, config.stringLength).map((request) => ({ request, json: encodeInferRequest(request) }));
  }
  const bodies = encodeBodies(given, config.binary, isBatched(metadata));
  const path = modelPath(endpoint, config.model, config.modelVersion, '/infer');
  const requests = bodies.map((b) => prepareRequest(endpoint, path, b, config.headers));
  const sizes = bodies.map((b) => b.body.length);
  return {
    endpoint,
    metadata,
    requests,
    description: {
      inputs,
      distinct: bodies.length,
      encoding: config.binary ? 'binary' : 'json',
      minBodyBytes: Math.min(...sizes),
      maxBodyBytes: Math.max(...sizes),
      rowsPerRequest: bodies.reduce((n, b) => n + b.rows, 0) / bodies.length,
    },
  };
}
