// Owns the served models: scans the repository, loads each model's newest version into its
// instances, keeps every version's state with a reason, and answers which version serves a
// request. A model that fails to load is UNAVAILABLE with its reason; the others still serve.
import { SibylError, type RepositoryIndexEntry } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { MachineInfo } from '../core/machine.ts';
import { stat } from 'node:fs/promises';
import { compileModelConfig, defaultThreadsPerInstance, type ModelConfig } from '../config/model-config.ts';
import { readYamlFile } from '../config/yaml-file.ts';
import type { Instance, Runtime } from '../runtimes/runtime.ts';
import { scanRepository, type ModelEntry } from '../repository/scan.ts';
import { InstancePool } from '../scheduling/instance-pool.ts';
import { Scheduler } from '../scheduling/scheduler.ts';
import type { VersionStatus } from './model-state.ts';
import { ServedVersion } from './served-version.ts';
import { resolveSignature } from './signature.ts';

export interface ModelManagerOptions {
  repository: string;
  runtime: Runtime;
  clock: Clock;
  machine: MachineInfo;
  log: Logger;
}

/** What the manager knows of one model: its versions' states and the version it serves. */
export interface ModelStatus {
  name: string;
  versions: VersionStatus[];
  /** A problem of the model as a whole (no version folders, a config error), else ''. */
  problem: string;
  served: ServedVersion | undefined;
}

const VERSION_TEXT = /^[1-9][0-9]{0,14}$/;

export class ModelManager {
  private readonly models = new Map<string, ModelStatus>();
  private loading: Promise<void> | undefined;

  constructor(private readonly options: ModelManagerOptions) {}

  /** True once the initial load has finished (whatever its outcome per model). */
  loaded = false;

  /** Scans the repository and loads every model, each independently. Call once. */
  loadAll(): Promise<void> {
    this.loading ??= this.doLoadAll();
    return this.loading;
  }

  private async doLoadAll(): Promise<void> {
    const entries = await scanRepository(this.options.repository);
    for (const entry of entries) {
      this.models.set(entry.name, { name: entry.name, versions: entry.versions.map((v) => ({ version: v.version, state: 'LOADING', reason: 'loading' })), problem: '', served: undefined });
    }
    // Models load one after another: loading is CPU-bound (file parsing, graph optimisation) and
    // parallel loads on a small machine only slow each other down.
    for (const entry of entries) await this.loadModel(entry);
    this.loaded = true;
  }

  private async loadModel(entry: ModelEntry): Promise<void> {
    const status = this.models.get(entry.name)!;
    const log = this.options.log.child({ model: entry.name });
    for (const note of entry.ignored) log.warn(`${entry.dir}: ${note}`);
    const newest = entry.versions.at(-1);
    if (newest === undefined) {
      status.problem = `no version folders in ${entry.dir}: expected <model>/<version>/model.onnx with a positive integer version`;
      log.error(status.problem);
      return;
    }
    for (const v of status.versions) {
      if (v.version !== newest.version) Object.assign(v, { state: 'UNAVAILABLE', reason: `not served: only the newest version (${newest.version}) is loaded` });
    }
    const versionStatus = status.versions.find((v) => v.version === newest.version)!;
    const fail = (reason: string): void => {
      Object.assign(versionStatus, { state: 'UNAVAILABLE', reason });
      log.error({ version: newest.version }, `version ${newest.version} is UNAVAILABLE: ${reason}`);
    };

    let config: ModelConfig;
    try {
      const document = entry.configPath === undefined ? undefined : await readYamlFile(entry.configPath);
      config = compileModelConfig(document, entry.configPath ?? `${entry.dir}/config.yaml`);
    } catch (err) {
      status.problem = `config error: ${(err as Error).message}`;
      return fail(status.problem);
    }

    const label = `${entry.name}:${newest.version}`;
    const started = this.options.clock.now();
    const artifactBytes = (await stat(newest.artifactPath).catch(() => undefined))?.size ?? 0;
    const threads = config.threadsPerInstance ?? defaultThreadsPerInstance(this.options.machine.cpuCount, config.instanceCount, artifactBytes);
    const load = async (index: number): Promise<Instance> =>
      (await this.options.runtime.loadInstance({ artifactPath: newest.artifactPath, threads, label: `${label}#${index}` })).instance;
    let instances: Instance[] = [];
    try {
      const first = await this.options.runtime.loadInstance({ artifactPath: newest.artifactPath, threads, label: `${label}#0` });
      instances.push(first.instance);
      const resolved = resolveSignature(first.signature, config);
      if ('problems' in resolved) {
        await Promise.all(instances.map((i) => i.close()));
        return fail(`config error: ${resolved.problems.map((p) => `${entry.configPath}: ${p}`).join('; ')}`);
      }
      for (let i = 1; i < config.instanceCount; i++) instances.push(await load(i));
      const pool = InstancePool.fromInstances(instances, {
        load,
        clock: this.options.clock,
        executionsPerInstance: config.executionsPerInstance,
        onEvent: (e) =>
          e.kind === 'replaced' ? log.info(`instance ${e.label}: ${e.reason}`) : log.error(`instance ${e.label} ${e.kind}: ${e.reason}`),
      });
      instances = [];
      const signature = resolved.signature;
      const scheduler = new Scheduler(pool, {
        label: `model '${entry.name}' version ${newest.version}`,
        clock: this.options.clock,
        maxBatchSize: config.dynamicBatching.enabled ? signature.maxBatchSize : 0,
        maxQueueDelayMs: config.dynamicBatching.maxQueueDelayMs,
        preferredBatchSizes: config.dynamicBatching.preferredBatchSizes,
        maxQueueSize: config.maxQueueSize,
      });
      Object.assign(versionStatus, { state: 'READY', reason: '' });
      status.served = new ServedVersion(entry.name, this.options.runtime.platform, signature, versionStatus, scheduler, pool);
      log.info(
        { version: newest.version, loadMs: Math.round(this.options.clock.now() - started), instances: config.instanceCount, threadsPerInstance: threads },
        `version ${newest.version} is READY`,
      );
    } catch (err) {
      await Promise.all(instances.map((i) => i.close()));
      fail(`load failed: ${(err as Error).message}`);
    }
  }

  /** Every known model, sorted by name. */
  list(): ModelStatus[] {
    return [...this.models.values()];
  }

  /** The status of a model. @throws SibylError MODEL_NOT_FOUND. */
  status(name: string): ModelStatus {
    const status = this.models.get(name);
    if (status === undefined) {
      const known = [...this.models.keys()];
      throw new SibylError('MODEL_NOT_FOUND', `model '${name}' is not in the repository${known.length > 0 ? `; known models: ${known.join(', ')}` : ''}`);
    }
    return status;
  }

  /**
   * The version that serves a request for `name` (and `version`, when the path names one).
   * @throws SibylError MODEL_NOT_FOUND, INVALID_VERSION, VERSION_NOT_FOUND, or MODEL_NOT_READY
   *   carrying the version's state and reason.
   */
  resolve(name: string, version?: string): ServedVersion {
    const status = this.status(name);
    let wanted: VersionStatus | undefined;
    if (version !== undefined && version !== '') {
      if (!VERSION_TEXT.test(version)) throw new SibylError('INVALID_VERSION', `version '${version}' is not a positive integer`);
      wanted = status.versions.find((v) => v.version === Number(version));
      if (wanted === undefined) {
        throw new SibylError('VERSION_NOT_FOUND', `model '${name}' has no version ${version}; its versions are ${status.versions.map((v) => v.version).join(', ') || 'none'}`);
      }
    }
    const served = status.served;
    if (served !== undefined && served.ready && (wanted === undefined || wanted.version === served.version)) return served;
    const reasonOf = wanted ?? status.versions.at(-1);
    const why = status.problem !== '' ? status.problem : reasonOf === undefined ? 'no versions' : `${reasonOf.state}: ${reasonOf.reason}`;
    throw new SibylError('MODEL_NOT_READY', `model '${name}'${wanted === undefined ? '' : ` version ${wanted.version}`} is not ready (${why})`, {
      details: { state: reasonOf?.state ?? 'UNAVAILABLE', reason: why },
    });
  }

  /** Triton's repository index: one row per version, plus a row for a model with no versions. */
  index(): RepositoryIndexEntry[] {
    return this.list().flatMap((m) =>
      m.versions.length === 0
        ? [{ name: m.name, state: 'UNAVAILABLE', reason: m.problem }]
        : m.versions.map((v) => ({ name: m.name, version: String(v.version), state: v.state, reason: v.reason })),
    );
  }

  /** Unloads every served version: stops admission, drains (bounded), frees instances. */
  async close(drainTimeoutMs: number): Promise<void> {
    await this.loading?.catch(() => undefined);
    await Promise.all(
      this.list().map((m) => m.served?.unload(drainTimeoutMs, this.options.clock, 'server shut down')),
    );
  }
}
