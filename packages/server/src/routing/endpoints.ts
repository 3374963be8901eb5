// The endpoints of a server: those of sibyl.yaml, and those set through the management API
// (which override the file's until deleted). Each endpoint's config and state (canary progress,
// blue-green colour) persist in the state store; the versions its targets name are pinned in the
// model manager so they stay loaded.
import { createHash } from 'node:crypto';
import { SibylError } from '@sibyl/protocol';
import type { Logger } from 'pino';
import { compileEndpointConfig, type EndpointConfig, type EndpointConfigDocument, type Target } from '../config/endpoint-config.ts';
import { ConfigError } from '../config/validate.ts';
import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/random.ts';
import type { Principal } from '../core/request-context.ts';
import { allows } from '../core/scopes.ts';
import type { ModelManager } from '../models/model-manager.ts';
import { STATE_NAMESPACES } from '../state/snapshot-schema.ts';
import type { StateStore } from '../state/state-store.ts';
import { Endpoint } from './endpoint.ts';
import type { RunTarget } from './target.ts';
import { endpointTargets } from './traffic/registry.ts';
import type { EndpointState } from './traffic/traffic-policy.ts';
import type { PredictionLookup } from './stored-prediction.ts';

/** State store namespace: endpoint → { config?: document set through the API, state }. */
export const ENDPOINT_STATE = STATE_NAMESPACES.endpoints;

interface Persisted {
  /** Set through the API: the endpoint's configuration. */
  config?: EndpointConfigDocument;
  state?: EndpointState;
  /** Hash of the configuration the state belongs to: a changed sibyl.yaml starts afresh. */
  configHash?: string;
}

const hashOf = (document: EndpointConfigDocument): string => createHash('sha256').update(JSON.stringify(document)).digest('base64url').slice(0, 16);

export interface EndpointsOptions {
  /** From sibyl.yaml, compiled. */
  configured: ReadonlyMap<string, EndpointConfig>;
  store: StateStore;
  models: ModelManager;
  clock: Clock;
  random: Random;
  log: Logger;
  run: RunTarget;
  /** Where hybrid endpoints read stored predictions. */
  predictions?: PredictionLookup;
}

export class Endpoints {
  private readonly endpoints = new Map<string, Endpoint>();
  /** Where each endpoint's config came from. */
  private readonly sources = new Map<string, 'file' | 'api'>();

  constructor(private readonly options: EndpointsOptions) {}

  /**
   * Installs the file's endpoints and those the state store holds, with their saved state. Call
   * once, before the models start (so the versions they pin load with the rest).
   */
  async load(): Promise<void> {
    const { store, configured, log } = this.options;
    const persisted = await store.list<Persisted>(ENDPOINT_STATE);
    for (const [name, config] of configured) {
      const saved = persisted.get(name);
      if (saved?.config !== undefined) continue;
      // State saved for another version of the file's endpoint (a new canary, say) does not apply.
      const state = saved?.configHash === hashOf(config.document) ? (saved.state ?? {}) : {};
      this.install(name, config, state, 'file');
    }
    for (const [name, saved] of persisted) {
      if (saved.config === undefined) continue;
      try {
        this.install(name, compileEndpointConfig(name, saved.config, `state store endpoint '${name}'`), saved.state ?? {}, 'api');
      } catch (err) {
        log.error(`endpoint ${name} from the state store is not valid and is skipped: ${(err as Error).message}`);
      }
    }
  }

  /** Warns about endpoints whose targets name models the repository does not have. */
  checkTargets(): void {
    for (const endpoint of this.endpoints.values()) {
      const missing = [...new Set(endpointTargets(endpoint.config).map((t) => t.model))].filter((m) => !this.options.models.has(m));
      if (missing.length > 0) this.options.log.warn(`endpoint ${endpoint.name} names models that are not in the repository: ${missing.join(', ')}`);
      if (this.answering(endpoint.name) === undefined) {
        this.options.log.warn(`endpoint ${endpoint.name} has the name of a model and does not set replacesModel: true, so the model answers for it; set replacesModel: true in its config if the endpoint is meant to answer in the model's place`);
      }
    }
  }

  get(name: string): Endpoint | undefined {
    return this.endpoints.get(name);
  }

  /**
   * The endpoint that answers requests for `name`: undefined when there is none, or when it has
   * the name of a model and does not say `replacesModel: true` (then the model answers — an
   * endpoint cannot take over a model's traffic by its name alone, even one from the state store).
   */
  answering(name: string): Endpoint | undefined {
    const endpoint = this.endpoints.get(name);
    if (endpoint === undefined) return undefined;
    return endpoint.config.document.replacesModel === true || !this.options.models.has(name) ? endpoint : undefined;
  }

  /** @throws SibylError ENDPOINT_NOT_FOUND. */
  require(name: string): Endpoint {
    const endpoint = this.endpoints.get(name);
    if (endpoint === undefined) throw new SibylError('ENDPOINT_NOT_FOUND', `no endpoint '${name}'; list them with GET /v1/endpoints`);
    return endpoint;
  }

  list(): { endpoint: Endpoint; source: 'file' | 'api' }[] {
    return [...this.endpoints.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((endpoint) => ({ endpoint, source: this.sources.get(endpoint.name)! }));
  }

  sourceOf(name: string): 'file' | 'api' | undefined {
    return this.sources.get(name);
  }

  private install(name: string, config: EndpointConfig, state: EndpointState, source: 'file' | 'api'): Endpoint {
    this.endpoints.get(name)?.close();
    const { models, log, clock, random, run, predictions } = this.options;
    const endpoint = new Endpoint(name, config, structuredClone(state), {
      clock,
      random,
      log,
      run,
      predictions,
      saveState: (s) => void this.save(name, s),
      promote: (stable, candidate) => this.promote(stable, candidate),
    });
    this.endpoints.set(name, endpoint);
    this.sources.set(name, source);
    models.pin(`endpoint:${name}`, endpointTargets(config).filter((t): t is Target & { version: number } => t.version !== undefined).map((t) => ({ model: t.model, version: t.version })));
    return endpoint;
  }

  private async save(name: string, state: EndpointState): Promise<void> {
    const source = this.sources.get(name);
    const current = await this.options.store.get<Persisted>(ENDPOINT_STATE, name);
    const config = this.endpoints.get(name)?.config.document;
    const next: Persisted = { ...(source === 'api' && current?.config !== undefined ? { config: current.config } : {}), state, ...(config === undefined ? {} : { configHash: hashOf(config) }) };
    await this.options.models.persist(ENDPOINT_STATE, name, next);
  }

  /**
   * Sets an endpoint through the API: validated, checked against the repository, installed (a
   * canary starts at its first stage) and persisted. @throws SibylError ENDPOINT_INVALID.
   */
  async set(name: string, document: unknown, principal?: Principal): Promise<Endpoint> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) {
      throw new SibylError('ENDPOINT_INVALID', `${JSON.stringify(name)} is not an endpoint name; expected letters, digits, '_', '-' or '.', starting with a letter or digit`);
    }
    let config: EndpointConfig;
    try {
      config = compileEndpointConfig(name, document, `endpoint '${name}'`);
    } catch (err) {
      if (err instanceof ConfigError) throw new SibylError('ENDPOINT_INVALID', err.message);
      throw err;
    }
    const { models } = this.options;
    if (models.has(name)) {
      if (config.document.replacesModel !== true) {
        throw new SibylError('ENDPOINT_SHADOWS_MODEL', `endpoint '${name}' would take the name of model '${name}' and answer in its place; choose another name, or set "replacesModel": true (with the admin scope) if that is meant`);
      }
      if (!allows(principal, 'admin')) throw new SibylError('SCOPE_MISSING', `endpoint '${name}' sets replacesModel to answer in the place of model '${name}'; that needs the admin scope`);
    }
    const problems = endpointTargets(config).flatMap((t) => {
      const model = models.find(t.model);
      if (model === undefined) return [`model '${t.model}' is not in the repository`];
      if (t.version !== undefined && !model.present.includes(t.version)) return [`model '${t.model}' has no version ${t.version}; its versions are ${model.present.join(', ') || 'none'}`];
      if (t.label !== undefined && !model.labels.has(t.label)) return [`model '${t.model}' has no label '${t.label}'`];
      return [];
    });
    if (problems.length > 0) throw new SibylError('ENDPOINT_INVALID', `endpoint '${name}' cannot be set: ${[...new Set(problems)].join('; ')}`);
    const endpoint = this.install(name, config, {}, 'api');
    await models.persist(ENDPOINT_STATE, name, { config: config.document, state: {} } satisfies Persisted);
    this.options.log.info({ endpoint: name }, `endpoint ${name} set through the API (${config.policy.kind})`);
    return endpoint;
  }

  /** Deletes an endpoint set through the API; the file's endpoint of that name, if any, applies again. */
  async delete(name: string): Promise<'removed' | 'reverted'> {
    this.require(name);
    if (this.sources.get(name) !== 'api') {
      throw new SibylError('ENDPOINT_ACTION_INVALID', `endpoint '${name}' is set in sibyl.yaml, not through the API; edit the file to remove it`);
    }
    await this.options.store.delete(ENDPOINT_STATE, name);
    const fromFile = this.options.configured.get(name);
    if (fromFile !== undefined) {
      this.install(name, fromFile, {}, 'file');
      return 'reverted';
    }
    this.endpoints.get(name)!.close();
    this.endpoints.delete(name);
    this.sources.delete(name);
    this.options.models.pin(`endpoint:${name}`, []);
    return 'removed';
  }

  /** A promoted canary: the stable target's label moves to the candidate's version. */
  private async promote(stable: Target, candidate: Target): Promise<string> {
    const { models } = this.options;
    if (stable.label === undefined || stable.model !== candidate.model) {
      return `the candidate takes all traffic (the stable target ${stable.model} has no label to move; point the endpoint at the candidate to finish)`;
    }
    const version = candidate.version ?? (candidate.label !== undefined ? models.status(candidate.model).labels.get(candidate.label)?.version : undefined);
    if (version === undefined) return 'the candidate takes all traffic (its version is not fixed, so no label moved)';
    await models.control.setLabel(stable.model, stable.label, version);
    return `label '${stable.label}' of model '${stable.model}' now points at version ${version}`;
  }

  close(): void {
    for (const endpoint of this.endpoints.values()) endpoint.close();
  }
}
