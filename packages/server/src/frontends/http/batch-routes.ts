// Batch jobs and schedules over HTTP: start, list, show, cancel and resume jobs run inside the
// server; list schedules with their next and last runs. Translation only: batch/ decides.
import { SibylError, type BatchJobJson, type BatchJobListJson, type BatchScheduleListJson } from '@sibyl/protocol';
import type { FastifyInstance } from 'fastify';
import type { BatchJobManager, BatchScheduler } from '../../serving/frontend-vocabulary.ts';
import { readJsonObject } from './json-body.ts';

export interface BatchRouteDeps {
  batchJobs: BatchJobManager;
  schedules: BatchScheduler;
}

type Params = { id: string };

const START_BODY = 'a job spec (the fields of a job.yaml, as JSON) or {"jobFile": "<path relative to the folder of sibyl.yaml>"}';

function limitOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new SibylError('MALFORMED_REQUEST', `query parameter limit=${JSON.stringify(text)} is not a count; expected an integer from 1 to 10000`);
  return n;
}

export function registerBatchRoutes(app: FastifyInstance, deps: BatchRouteDeps): void {
  const { batchJobs, schedules } = deps;

  app.post('/v1/batch/jobs', async (request, reply) => {
    const body = readJsonObject(request, START_BODY);
    if (body === undefined) throw new SibylError('MALFORMED_REQUEST', `the request has no body; expected ${START_BODY}`);
    let input: { spec: unknown } | { jobFile: string };
    if ('jobFile' in body) {
      const { jobFile, ...rest } = body;
      if (typeof jobFile !== 'string' || jobFile === '') throw new SibylError('MALFORMED_REQUEST', `"jobFile" is ${JSON.stringify(jobFile)}; expected the path of a job file`);
      if (Object.keys(rest).length > 0) throw new SibylError('MALFORMED_REQUEST', `a body with "jobFile" has no other fields, but it has ${Object.keys(rest).map((k) => JSON.stringify(k)).join(', ')}; expected ${START_BODY}`);
      input = { jobFile };
    } else {
      input = { spec: body };
    }
    const { record } = await batchJobs.start(input, 'api');
    return reply.code(202).send((await batchJobs.get(record.id)) satisfies BatchJobJson);
  });

  app.get<{ Querystring: { limit?: string; name?: string } }>('/v1/batch/jobs', async (request): Promise<BatchJobListJson> => ({
    jobs: await batchJobs.list({ limit: limitOf(request.query.limit) ?? 100, name: request.query.name }),
  }));

  app.get<{ Params: Params }>('/v1/batch/jobs/:id', async (request): Promise<BatchJobJson> => batchJobs.get(request.params.id));

  app.post<{ Params: Params }>('/v1/batch/jobs/:id/cancel', async (request): Promise<BatchJobJson> => batchJobs.cancel(request.params.id));

  app.post<{ Params: Params }>('/v1/batch/jobs/:id/resume', async (request, reply) => {
    const { record } = await batchJobs.resume(request.params.id, 'api');
    return reply.code(202).send((await batchJobs.get(record.id)) satisfies BatchJobJson);
  });

  app.get('/v1/batch/schedules', async (): Promise<BatchScheduleListJson> => ({ schedules: schedules.list() }));
}
