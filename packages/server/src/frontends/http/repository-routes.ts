// Model management over HTTP: Triton's model repository extension (index, load, unload) and
// Sibyl's lifecycle extension (models with their versions and labels, label moves, rollback,
// state snapshot and restore). Translation only: the model manager decides.
// Triton's extension: https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_model_repository.md
import { SibylError, type EmptyJson, type LabelMoveJson, type LabelRollbackJson, type ModelLabelsJson, type ModelListJson, type ModelStatusJson, type RepositoryIndexEntry, type StateSnapshotJson } from '@sibyl/protocol';
import type { FastifyInstance } from 'fastify';
import type { ModelStatus } from '../../serving/frontend-vocabulary.ts';
import type { ModelsApi } from '../../serving/serving-api.ts';
import { principalOf } from './access-hooks.ts';
import { parseJsonLimited, readJsonObject } from './json-body.ts';

export interface RepositoryRouteDeps {
  models: ModelsApi;
}

type ModelParams = { model: string };
type LabelParams = { model: string; label: string };

/** A model as the management API shows it: versions are strings, as in the rest of V2. */
export function modelView(m: ModelStatus): ModelStatusJson {
  return {
    name: m.name,
    wanted: m.wanted,
    default_version: m.defaultVersion === undefined ? null : String(m.defaultVersion),
    problem: m.problem,
    warnings: m.warnings,
    labels: Object.fromEntries([...m.labels].map(([name, l]) => [name, { version: String(l.version), source: l.source, history: l.history.map(String) }])),
    versions: m.versions.map((v) => ({
      version: String(v.version),
      state: v.state,
      reason: v.reason,
      load_ms: v.loadMs ?? null,
      loads_on_demand: v.loadsOnDemand === true,
      // Set when its signature keeps it from the default traffic (see docs/model-lifecycle.md#signature-changes).
      incompatible_signature: v.incompatibleSignature ?? null,
    })),
  };
}

/** The `config` load parameter: a model config as a JSON string (Triton's form) or an object. */
export function loadConfigParameter(body: Record<string, unknown> | undefined): unknown {
  const parameters = body?.parameters;
  if (parameters === undefined) return undefined;
  if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) {
    throw new SibylError('MALFORMED_REQUEST', `"parameters" is ${JSON.stringify(parameters)}; expected an object such as {"config": "{…model config as JSON…}"}`);
  }
  const files = Object.keys(parameters).filter((k) => k.startsWith('file:'));
  if (files.length > 0) {
    throw new SibylError('NOT_SUPPORTED', `model files in the load request (${files.join(', ')}) are not supported; put them in the model repository and load again`);
  }
  const config = (parameters as Record<string, unknown>).config;
  if (config === undefined || (config !== null && typeof config === 'object' && !Array.isArray(config))) return config;
  if (typeof config !== 'string') throw new SibylError('MALFORMED_REQUEST', `parameters.config is ${JSON.stringify(config)}; expected a model config as a JSON string or object`);
  return parseJsonLimited(config, 'parameters.config', 'a model config (the fields of config.yaml) as JSON');
}

/** A version in a body: a positive integer or its decimal string. */
function versionField(body: Record<string, unknown> | undefined): number {
  const v = body?.version;
  const n = typeof v === 'string' && /^[1-9][0-9]{0,14}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new SibylError('MALFORMED_REQUEST', `"version" is ${JSON.stringify(v)}; expected the version to point the label at, a positive integer: {"version": 2}`);
  }
  return n;
}

export function registerRepositoryRoutes(app: FastifyInstance, deps: RepositoryRouteDeps): void {
  const { models } = deps;

  app.post('/v2/repository/index', async (request): Promise<RepositoryIndexEntry[]> => {
    const body = readJsonObject(request, '{"ready": true|false} or nothing');
    const ready = body?.ready;
    if (ready !== undefined && typeof ready !== 'boolean') throw new SibylError('MALFORMED_REQUEST', `"ready" is ${JSON.stringify(ready)}; expected true or false`);
    const rows = models.index();
    return ready === true ? rows.filter((r) => r.state === 'READY') : rows;
  });

  app.post<{ Params: ModelParams }>('/v2/repository/models/:model/load', async (request): Promise<EmptyJson> => {
    const config = loadConfigParameter(readJsonObject(request, '{"parameters": {"config": "<model config as JSON>"}} or nothing'));
    // The caller's scopes decide whether the override may raise the prediction log's exposure.
    await models.control.load(request.params.model, { config, principal: principalOf(request) });
    return {};
  });

  app.post<{ Params: ModelParams }>('/v2/repository/models/:model/unload', async (request): Promise<EmptyJson> => {
    const body = readJsonObject(request, '{"parameters": {"unload_dependents": true|false}} or nothing');
    if (body?.parameters !== undefined && (body.parameters === null || typeof body.parameters !== 'object')) {
      throw new SibylError('MALFORMED_REQUEST', `"parameters" is ${JSON.stringify(body.parameters)}; expected an object`);
    }
    await models.control.unload(request.params.model);
    return {};
  });

  app.get('/v2/repository/models', async (): Promise<ModelListJson> => ({ models: models.list().map(modelView) }));
  app.get<{ Params: ModelParams }>('/v2/repository/models/:model', async (request): Promise<ModelStatusJson> => modelView(models.status(request.params.model)));

  app.get<{ Params: ModelParams }>('/v2/repository/models/:model/labels', async (request): Promise<ModelLabelsJson> => {
    const view = modelView(models.status(request.params.model));
    return { name: view.name, labels: view.labels };
  });

  app.put<{ Params: LabelParams }>('/v2/repository/models/:model/labels/:label', async (request): Promise<LabelMoveJson> => {
    const version = versionField(readJsonObject(request, '{"version": <version>}'));
    const label = await models.control.setLabel(request.params.model, request.params.label, version);
    return { name: request.params.model, label: request.params.label, version: String(label.version), source: label.source, history: label.history.map(String) };
  });

  app.delete<{ Params: LabelParams }>('/v2/repository/models/:model/labels/:label', async (request): Promise<EmptyJson> => {
    await models.control.deleteLabel(request.params.model, request.params.label);
    return {};
  });

  app.post<{ Params: LabelParams }>('/v2/repository/models/:model/labels/:label/rollback', async (request): Promise<LabelRollbackJson> => {
    const result = await models.control.rollback(request.params.model, request.params.label);
    return { name: request.params.model, label: result.label, version: String(result.version), previous_version: String(result.previous) };
  });

  app.get('/v2/repository/state', async (): Promise<StateSnapshotJson> => models.control.snapshot());
  app.put('/v2/repository/state', async (request): Promise<EmptyJson> => {
    const body = readJsonObject(request, "a snapshot written by 'sibyl snapshot'");
    await models.control.restore(body, 'request body');
    return {};
  });
}
