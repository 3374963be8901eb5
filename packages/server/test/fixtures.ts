// Models shared by several test suites, with the values their expectations are computed from,
// and the requests those suites send them.
import type { SibylServer } from '../src/server.ts';

/** A 4-feature, 3-class linear classifier (see linearClassifierModel / linearClassifierExpected). */
export const LINEAR_4X3 = {
  weights: [
    [0.5, -1, 0.25],
    [1.5, 0.5, -0.75],
    [-0.5, 2, 1],
    [1, -0.25, 0.5],
  ],
  bias: [0.1, -0.2, 0.3],
} as const satisfies { weights: readonly (readonly number[])[]; bias: readonly number[] };

/** The embedding model (embeddingModel) of the batch-isolation suites: valid ids are 0 … 999. */
export const EMBEDDING_1000X2 = { rows: 1000, width: 2, tokens: 2 } as const;

/** POSTs one row of `ids` ([1, EMBEDDING_1000X2.tokens] INT64 `ids`) to a model's V2 infer, in process. */
export async function inferIds(server: SibylServer, name: string, ids: number[]) {
  const res = await server.http.inject({
    method: 'POST',
    url: `/v2/models/${name}/infer`,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ inputs: [{ name: 'ids', datatype: 'INT64', shape: [1, EMBEDDING_1000X2.tokens], data: ids }] }),
  });
  return { status: res.statusCode, body: res.body, json: res.json() as { outputs?: { data: number[] }[]; error?: string; code?: string; reason?: string } };
}
