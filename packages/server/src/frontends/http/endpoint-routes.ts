// Endpoints over HTTP: list, report, set and delete at run time, outcome feedback, canary
// actions and the blue-green switch. Translation only: routing decides.
import { SibylError, type BlueGreenSwitchJson, type CanaryReportJson, type EndpointDeleteJson, type EndpointListJson, type EndpointReportJson, type FeedbackJson } from '@sibyl/protocol';
import type { FastifyInstance } from 'fastify';
import { endpointReport } from '../../serving/frontend-vocabulary.ts';
import type { EndpointsApi } from '../../serving/serving-api.ts';
import { principalOf } from './access-hooks.ts';
import { readJsonObject } from './json-body.ts';

export interface EndpointRouteDeps {
  endpoints: EndpointsApi;
}

type Params = { endpoint: string };

/** Most outcomes one feedback request may carry (as many as keys in one prediction lookup). */
export const MAX_FEEDBACK_ITEMS = 1000;

/** An outcome: true/false, or 1/0. */
function outcomeOf(value: unknown, where: string): boolean {
  if (value === true || value === 1) return true;
  if (value === false || value === 0) return false;
  throw new SibylError('MALFORMED_REQUEST', `${where} is ${JSON.stringify(value)}; expected true or false (or 1 or 0): whether the answer led to the outcome`);
}

function idOf(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new SibylError('MALFORMED_REQUEST', `${where} is ${JSON.stringify(value)}; expected the id of the endpoint's response`);
  return value;
}

function reasonOf(body: Record<string, unknown> | undefined, fallback: string): string {
  const reason = body?.reason;
  if (reason === undefined) return fallback;
  if (typeof reason !== 'string') throw new SibylError('MALFORMED_REQUEST', `"reason" is ${JSON.stringify(reason)}; expected text`);
  return reason;
}

export function registerEndpointRoutes(app: FastifyInstance, deps: EndpointRouteDeps): void {
  const { endpoints } = deps;

  app.get('/v1/endpoints', async (): Promise<EndpointListJson> => ({
    endpoints: endpoints.list().map(({ endpoint, source }) => ({ name: endpoint.name, policy: endpoint.config.policy.kind, source, description: endpoint.config.description })),
  }));

  app.get<{ Params: Params }>('/v1/endpoints/:endpoint', async (request): Promise<EndpointReportJson> => {
    const endpoint = endpoints.require(request.params.endpoint);
    return endpointReport(endpoint, endpoints.sourceOf(endpoint.name)!);
  });

  app.put<{ Params: Params }>('/v1/endpoints/:endpoint', async (request): Promise<EndpointReportJson> => {
    const body = readJsonObject(request, 'an endpoint configuration, e.g. {"canary": {…}}');
    // Taking a model's name (replacesModel) needs admin: the caller's scopes decide.
    const endpoint = await endpoints.set(request.params.endpoint, body ?? {}, principalOf(request));
    return endpointReport(endpoint, 'api');
  });

  app.delete<{ Params: Params }>('/v1/endpoints/:endpoint', async (request): Promise<EndpointDeleteJson> => ({ result: await endpoints.delete(request.params.endpoint) }));

  // Outcome feedback: {"id": "<response id>", "outcome": true} or {"feedback": [{…}, …]}.
  app.post<{ Params: Params }>('/v1/endpoints/:endpoint/feedback', async (request): Promise<FeedbackJson> => {
    const endpoint = endpoints.require(request.params.endpoint);
    const body = readJsonObject(request, '{"id": "<response id>", "outcome": true|false} or {"feedback": [{"id": …, "outcome": …}, …]}');
    const items = Array.isArray(body?.feedback) ? (body.feedback as unknown[]) : [body];
    if (items.length > MAX_FEEDBACK_ITEMS) throw new SibylError('MALFORMED_REQUEST', `"feedback" has ${items.length} items; expected at most ${MAX_FEEDBACK_ITEMS} per request (send more requests)`);
    const recorded: { id: string; arm: string }[] = [];
    const unmatched: string[] = [];
    items.forEach((item, i) => {
      const where = Array.isArray(body?.feedback) ? `feedback[${i}]` : 'the body';
      const record = (item ?? {}) as Record<string, unknown>;
      const id = idOf(record.id, `${where}.id`);
      const outcome = outcomeOf(record.outcome, `${where}.outcome`);
      try {
        recorded.push({ id, arm: endpoint.feedback(id, outcome) });
      } catch (err) {
        if (!(err instanceof SibylError) || items.length === 1) throw err;
        unmatched.push(id);
      }
    });
    return { recorded, unmatched };
  });

  for (const action of ['promote', 'rollback', 'pause', 'resume'] as const) {
    app.post<{ Params: Params }>(`/v1/endpoints/:endpoint/canary/${action}`, async (request): Promise<CanaryReportJson | undefined> => {
      const endpoint = endpoints.require(request.params.endpoint);
      const body = readJsonObject(request, '{"reason": "…"} or nothing');
      endpoint.canaryAction(action, reasonOf(body, `${action} through the API`));
      return endpointReport(endpoint, endpoints.sourceOf(endpoint.name)!).canary;
    });
  }

  app.post<{ Params: Params }>('/v1/endpoints/:endpoint/switch', async (request): Promise<BlueGreenSwitchJson> => {
    const endpoint = endpoints.require(request.params.endpoint);
    const body = readJsonObject(request, '{"to": "blue"|"green"} or nothing (switches to the other)');
    const to = body?.to;
    if (to !== undefined && to !== 'blue' && to !== 'green') throw new SibylError('MALFORMED_REQUEST', `"to" is ${JSON.stringify(to)}; expected "blue" or "green"`);
    return { active: endpoint.switchTo(to) };
  });
}
