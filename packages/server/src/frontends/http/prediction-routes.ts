// HTTP lookups of stored predictions (what batch jobs wrote to the prediction store):
//   GET  /v1/predictions/{model}/{key}    one key → its prediction, or 404 PREDICTION_NOT_FOUND
//   POST /v1/predictions/{model}/lookup   {"keys": [...]} → the predictions found and the missing keys
// Each prediction carries the version that made it, the job that wrote it, when, and its age.
import { MAX_LOOKUP_KEYS, SibylError, type PredictionLookupJson, type StoredPredictionJson } from '@sibyl/protocol';
import type { FastifyInstance } from 'fastify';
import type { Clock, PredictionLookup, StoredPrediction } from '../../serving/frontend-vocabulary.ts';
import { readJsonObject } from './json-body.ts';

/** Most keys one POST lookup may ask for (the protocol's limit). */
export { MAX_LOOKUP_KEYS };

export interface PredictionRouteDeps {
  predictionStore?: PredictionLookup;
  clock: Clock;
}

/** A stored prediction as the API returns it (the protocol's shape). */
export type PredictionJson = StoredPredictionJson;

export function predictionJson(p: StoredPrediction, nowMs: number): PredictionJson {
  return { model: p.model, key: p.key, version: p.version, jobId: p.jobId, createdAt: new Date(p.createdAtMs).toISOString(), createdAtMs: p.createdAtMs, ageMs: Math.max(0, nowMs - p.createdAtMs), outputs: p.outputs };
}

/** Reads the store, turning its failures into 503 PREDICTION_STORE_UNAVAILABLE. */
export async function lookupStored(store: PredictionLookup, model: string, keys: readonly string[]): Promise<Map<string, StoredPrediction>> {
  try {
    return await store.lookup(model, keys);
  } catch (err) {
    if (err instanceof SibylError && err.reason === 'PREDICTION_STORE_UNAVAILABLE') throw err;
    throw new SibylError('PREDICTION_STORE_UNAVAILABLE', `cannot read stored predictions of model ${model}: ${(err as Error).message}`, { cause: err });
  }
}

const EXPECTED = `{"keys": ["<key>", ...]} with 1 to ${MAX_LOOKUP_KEYS} string keys`;

/** The keys of a lookup body. @throws SibylError LOOKUP_INVALID saying what was expected. */
export function parseLookupKeys(body: Record<string, unknown> | undefined): string[] {
  if (body === undefined) throw new SibylError('LOOKUP_INVALID', `request body is empty; expected ${EXPECTED}`);
  const extra = Object.keys(body).filter((k) => k !== 'keys');
  if (extra.length > 0) throw new SibylError('LOOKUP_INVALID', `unknown field ${extra.map((k) => JSON.stringify(k)).join(', ')} in the lookup; expected ${EXPECTED}`);
  const keys = body.keys;
  if (!Array.isArray(keys)) throw new SibylError('LOOKUP_INVALID', `keys is ${keys === undefined ? 'missing' : JSON.stringify(keys).slice(0, 60)}; expected ${EXPECTED}`);
  if (keys.length === 0 || keys.length > MAX_LOOKUP_KEYS) throw new SibylError('LOOKUP_INVALID', `keys has ${keys.length} keys; expected 1 to ${MAX_LOOKUP_KEYS} (split larger lookups)`);
  const bad = keys.findIndex((k) => typeof k !== 'string');
  if (bad >= 0) throw new SibylError('LOOKUP_INVALID', `keys[${bad}] is ${JSON.stringify(keys[bad])}, not a string; expected ${EXPECTED} (numbers as text: "42")`);
  return keys as string[];
}

export function registerPredictionRoutes(app: FastifyInstance, deps: PredictionRouteDeps): void {
  const store = deps.predictionStore;
  if (store === undefined) return;

  app.get<{ Params: { model: string; key: string } }>('/v1/predictions/:model/:key', async (request) => {
    const { model, key } = request.params;
    const found = (await lookupStored(store, model, [key])).get(key);
    if (found === undefined) {
      throw new SibylError('PREDICTION_NOT_FOUND', `no prediction of model ${model} is stored for key ${JSON.stringify(key)}; batch jobs store them (sibyl batch run)`);
    }
    return predictionJson(found, deps.clock.epochMs());
  });

  app.post<{ Params: { model: string } }>('/v1/predictions/:model/lookup', async (request): Promise<PredictionLookupJson> => {
    const { model } = request.params;
    const keys = parseLookupKeys(readJsonObject(request, EXPECTED));
    const found = await lookupStored(store, model, keys);
    const now = deps.clock.epochMs();
    const predictions: PredictionJson[] = [];
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const key of keys) {
      if (seen.has(key)) continue;
      seen.add(key);
      const p = found.get(key);
      if (p === undefined) missing.push(key);
      else predictions.push(predictionJson(p, now));
    }
    return { model, predictions, missing };
  });
}
