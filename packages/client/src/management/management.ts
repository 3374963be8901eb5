// Sibyl's management API, typed with the shapes of @sibyl/protocol: models and their labels,
// endpoints and their rollouts, batch jobs and stored predictions, the state store and the log
// level. REST only (Sibyl's own routes), in Node and browsers. Calls follow the inference
// client's conventions: one deadline per call, retries with backoff on what the error table
// calls retriable, every failure a ClientError. A call that would act twice if repeated after a
// lost connection (starting a job, feedback, canary actions, a rollback, a switch without a
// colour) is retried only when the server answered that it did not run it.
import {
  MAX_LOOKUP_KEYS,
  type BatchJobJson,
  type BatchJobListJson,
  type BatchScheduleJson,
  type BatchScheduleListJson,
  type BlueGreenSwitchJson,
  type CanaryAction,
  type CanaryReportJson,
  type EndpointDeleteJson,
  type EndpointListJson,
  type EndpointReportJson,
  type EndpointSummaryJson,
  type FeedbackItemJson,
  type FeedbackJson,
  type LabelMoveJson,
  type LabelRollbackJson,
  type LogLevel,
  type LogLevelJson,
  type ModelLabelsJson,
  type ModelListJson,
  type ModelStatusJson,
  type ModelVersionJson,
  type PredictionLogJson,
  type PredictionLookupJson,
  type RepositoryIndexEntry,
  type StateSnapshotJson,
  type StoredPredictionJson,
} from '@sibyl/protocol';
import { CallLoop, type CallLoopOptions, type CallOptions } from '../call-loop.ts';
import type { ClientError } from '../errors.ts';
import { JsonHttp, type JsonHttpOptions, type Method } from './json-http.ts';

export type ManagementOptions = CallLoopOptions & JsonHttpOptions;

/** A query of the prediction log. Times: ms since the epoch or ISO 8601; limit 1..10000 (default 100). */
export interface PredictionLogQuery {
  since?: number | string;
  until?: number | string;
  version?: string;
  limit?: number | string;
}

const enc = encodeURIComponent;
/** Retry only what the server refused with a status: it did not act. */
const answered = (error: ClientError): boolean => error.status !== undefined;

/** Sends one management call through the call loop. */
class Caller {
  constructor(
    private readonly http: JsonHttp,
    private readonly loop: CallLoop,
  ) {}

  /** An idempotent call: retried as inference is. */
  call<T>(method: Method, path: string, body: unknown, options: CallOptions | undefined): Promise<T> {
    return this.loop.run(options, (ctx) => this.http.call<T>(method, path, ctx, body));
  }

  /** A call that acts each time it arrives: retried only when the server answered. */
  once<T>(method: Method, path: string, body: unknown, options: CallOptions | undefined): Promise<T> {
    return this.loop.run(options, (ctx) => this.http.call<T>(method, path, ctx, body), answered);
  }
}

/** Models: /v2/repository/… (Triton's repository extension and Sibyl's lifecycle routes). */
export class ModelsApi {
  constructor(private readonly c: Caller) {}

  /** Every model with its versions (state, reason, load time) and labels. */
  async list(options?: CallOptions): Promise<ModelStatusJson[]> {
    return (await this.c.call<ModelListJson>('GET', '/v2/repository/models', undefined, options)).models;
  }

  /** One model. @throws ClientError NOT_FOUND (MODEL_NOT_FOUND). */
  status(model: string, options?: CallOptions): Promise<ModelStatusJson> {
    return this.c.call('GET', `/v2/repository/models/${enc(model)}`, undefined, options);
  }

  /** A model's versions, ascending. */
  async versions(model: string, options?: CallOptions): Promise<ModelVersionJson[]> {
    return (await this.status(model, options)).versions;
  }

  /** Triton's repository index: every model version with state and reason. */
  index(options?: CallOptions & { readyOnly?: boolean }): Promise<RepositoryIndexEntry[]> {
    return this.c.call('POST', '/v2/repository/index', options?.readyOnly === undefined ? undefined : { ready: options.readyOnly }, options);
  }

  /** Loads a model, or loads it again with its current files; `config` replaces its config.yaml. Resolves when loaded. */
  async load(model: string, options?: CallOptions & { config?: unknown }): Promise<void> {
    const body = options?.config === undefined ? undefined : { parameters: { config: JSON.stringify(options.config) } };
    await this.c.call('POST', `/v2/repository/models/${enc(model)}/load`, body, options);
  }

  /** Unloads every version once its requests finish (explicit mode). */
  async unload(model: string, options?: CallOptions): Promise<void> {
    await this.c.call('POST', `/v2/repository/models/${enc(model)}/unload`, undefined, options);
  }

  labels(model: string, options?: CallOptions): Promise<ModelLabelsJson> {
    return this.c.call('GET', `/v2/repository/models/${enc(model)}/labels`, undefined, options);
  }

  /** Points a label at a version (loaded first if needed); the answer has the label's history. */
  moveLabel(model: string, label: string, version: number | string, options?: CallOptions): Promise<LabelMoveJson> {
    return this.c.call('PUT', `/v2/repository/models/${enc(model)}/labels/${enc(label)}`, { version }, options);
  }

  /** Removes a label set through the API. */
  async deleteLabel(model: string, label: string, options?: CallOptions): Promise<void> {
    await this.c.call('DELETE', `/v2/repository/models/${enc(model)}/labels/${enc(label)}`, undefined, options);
  }

  /** Moves a label back to the version it pointed at before its last move. */
  rollback(model: string, label = 'stable', options?: CallOptions): Promise<LabelRollbackJson> {
    return this.c.once('POST', `/v2/repository/models/${enc(model)}/labels/${enc(label)}/rollback`, undefined, options);
  }

  /** Records of the prediction log, oldest first. */
  predictions(model: string, query: PredictionLogQuery = {}, options?: CallOptions): Promise<PredictionLogJson> {
    const params = new URLSearchParams();
    for (const key of ['limit', 'since', 'until', 'version'] as const) if (query[key] !== undefined) params.set(key, String(query[key]));
    const search = params.toString() === '' ? '' : `?${params}`;
    return this.c.call('GET', `/v1/models/${enc(model)}/predictions${search}`, undefined, options);
  }
}

/** Endpoints: /v1/endpoints. */
export class EndpointsApi {
  constructor(private readonly c: Caller) {}

  async list(options?: CallOptions): Promise<EndpointSummaryJson[]> {
    return (await this.c.call<EndpointListJson>('GET', '/v1/endpoints', undefined, options)).endpoints;
  }

  /** The endpoint report: arms, canary stages and history, shadow agreement, fallbacks. */
  get(endpoint: string, options?: CallOptions): Promise<EndpointReportJson> {
    return this.c.call('GET', `/v1/endpoints/${enc(endpoint)}`, undefined, options);
  }

  /** Sets an endpoint (the fields of endpoints.<name> in sibyl.yaml); answers its report. */
  put(endpoint: string, config: unknown, options?: CallOptions): Promise<EndpointReportJson> {
    return this.c.call('PUT', `/v1/endpoints/${enc(endpoint)}`, config ?? {}, options);
  }

  /** Deletes an endpoint set through the API; the answer says what became of it (`removed`, …). */
  async delete(endpoint: string, options?: CallOptions): Promise<string> {
    return (await this.c.call<EndpointDeleteJson>('DELETE', `/v1/endpoints/${enc(endpoint)}`, undefined, options)).result;
  }

  /** A canary action now; `reason` goes to its history. Answers the canary's state. */
  canary(endpoint: string, action: CanaryAction, reason?: string, options?: CallOptions): Promise<CanaryReportJson> {
    return this.c.once('POST', `/v1/endpoints/${enc(endpoint)}/canary/${action}`, reason === undefined ? undefined : { reason }, options);
  }

  promote(endpoint: string, reason?: string, options?: CallOptions): Promise<CanaryReportJson> {
    return this.canary(endpoint, 'promote', reason, options);
  }

  rollback(endpoint: string, reason?: string, options?: CallOptions): Promise<CanaryReportJson> {
    return this.canary(endpoint, 'rollback', reason, options);
  }

  /** Blue-green: switches which colour answers (absent: the other one); answers the active colour. */
  async switch(endpoint: string, to?: 'blue' | 'green', options?: CallOptions): Promise<'blue' | 'green'> {
    const path = `/v1/endpoints/${enc(endpoint)}/switch`;
    const answer = to === undefined ? await this.c.once<BlueGreenSwitchJson>('POST', path, undefined, options) : await this.c.call<BlueGreenSwitchJson>('POST', path, { to }, options);
    return answer.active;
  }

  /** Records outcomes of answered requests for the arms that answered them. One item: an id no arm answered is an error (FEEDBACK_UNMATCHED); several: it is listed in `unmatched`. */
  feedback(endpoint: string, items: FeedbackItemJson | readonly FeedbackItemJson[], options?: CallOptions): Promise<FeedbackJson> {
    const body = Array.isArray(items) ? { feedback: items } : items;
    return this.c.once('POST', `/v1/endpoints/${enc(endpoint)}/feedback`, body, options);
  }
}

/** Batch jobs run inside the server (/v1/batch/…) and the predictions they stored (/v1/predictions/…). */
export class BatchJobsApi {
  constructor(private readonly c: Caller) {}

  /** Starts a job: a spec (the fields of a job.yaml) or `{jobFile}`, a file the server reads (relative to its sibyl.yaml, or absolute). */
  start(job: { jobFile: string } | Record<string, unknown>, options?: CallOptions): Promise<BatchJobJson> {
    return this.c.once('POST', '/v1/batch/jobs', job, options);
  }

  /** Newest first; limit 1..10000 (default 100). */
  async list(query: { limit?: number | string; name?: string } = {}, options?: CallOptions): Promise<BatchJobJson[]> {
    const params = new URLSearchParams();
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.name !== undefined) params.set('name', query.name);
    const search = params.toString() === '' ? '' : `?${params}`;
    return (await this.c.call<BatchJobListJson>('GET', `/v1/batch/jobs${search}`, undefined, options)).jobs;
  }

  /** @throws ClientError NOT_FOUND (BATCH_JOB_NOT_FOUND). */
  get(id: string, options?: CallOptions): Promise<BatchJobJson> {
    return this.c.call('GET', `/v1/batch/jobs/${enc(id)}`, undefined, options);
  }

  /** Cancels a job running in the server; resolves with its record once it stopped. */
  cancel(id: string, options?: CallOptions): Promise<BatchJobJson> {
    return this.c.call('POST', `/v1/batch/jobs/${enc(id)}/cancel`, undefined, options);
  }

  /** Runs a failed, cancelled or interrupted job again under its id, skipping its committed chunks. */
  resume(id: string, options?: CallOptions): Promise<BatchJobJson> {
    return this.c.once('POST', `/v1/batch/jobs/${enc(id)}/resume`, undefined, options);
  }

  async schedules(options?: CallOptions): Promise<BatchScheduleJson[]> {
    return (await this.c.call<BatchScheduleListJson>('GET', '/v1/batch/schedules', undefined, options)).schedules;
  }

  /** One stored prediction. @throws ClientError NOT_FOUND (PREDICTION_NOT_FOUND). */
  stored(model: string, key: string, options?: CallOptions): Promise<StoredPredictionJson> {
    return this.c.call('GET', `/v1/predictions/${enc(model)}/${enc(key)}`, undefined, options);
  }

  /** Stored predictions by key, in requests of at most MAX_LOOKUP_KEYS keys each (each its own call). */
  async lookup(model: string, keys: readonly string[], options?: CallOptions): Promise<PredictionLookupJson> {
    const all: PredictionLookupJson = { model, predictions: [], missing: [] };
    for (let i = 0; i < keys.length; i += MAX_LOOKUP_KEYS) {
      const part = await this.c.call<PredictionLookupJson>('POST', `/v1/predictions/${enc(model)}/lookup`, { keys: keys.slice(i, i + MAX_LOOKUP_KEYS) }, options);
      all.predictions.push(...part.predictions);
      all.missing.push(...part.missing);
    }
    return all;
  }
}

/** The state store (labels, explicit loads, last known good versions). */
export class StateApi {
  constructor(private readonly c: Caller) {}

  export(options?: CallOptions): Promise<StateSnapshotJson> {
    return this.c.call('GET', '/v2/repository/state', undefined, options);
  }

  /** Replaces the state store with a snapshot; the server applies it at once. */
  async restore(snapshot: StateSnapshotJson, options?: CallOptions): Promise<void> {
    await this.c.call('PUT', '/v2/repository/state', snapshot, options);
  }
}

/** The server's log level, changeable at run time. */
export class LoggingApi {
  constructor(private readonly c: Caller) {}

  async level(options?: CallOptions): Promise<LogLevel> {
    return (await this.c.call<LogLevelJson>('GET', '/v2/logging', undefined, options)).level;
  }

  /** Sets the level until restart; answers the level now in force. */
  async setLevel(level: LogLevel, options?: CallOptions): Promise<LogLevel> {
    return (await this.c.call<LogLevelJson>('POST', '/v2/logging', { level }, options)).level;
  }
}

/** The management API of the Sibyl server at a URL (e.g. http://127.0.0.1:8000). */
export class SibylManagement {
  readonly models: ModelsApi;
  readonly endpoints: EndpointsApi;
  readonly jobs: BatchJobsApi;
  readonly state: StateApi;
  readonly logging: LoggingApi;
  /** The server's base URL, without a trailing slash. */
  readonly target: string;

  constructor(url: string, options: ManagementOptions = {}) {
    const http = new JsonHttp(url, options);
    this.target = http.target;
    const caller = new Caller(http, new CallLoop('rest', http.target, options));
    this.models = new ModelsApi(caller);
    this.endpoints = new EndpointsApi(caller);
    this.jobs = new BatchJobsApi(caller);
    this.state = new StateApi(caller);
    this.logging = new LoggingApi(caller);
  }
}
