// Loading one version: its instances (each a runtime load), the signature resolved against the
// config, warm-up on every instance, then the scheduler in front of them. Either a ready
// ServedVersion comes back, or every instance made so far is closed and the error says why.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { defaultThreadsPerInstance, type ModelConfig } from '../config/model-config.ts';
import type { Clock } from '../core/clock.ts';
import type { Instance, Runtime } from '../runtimes/runtime.ts';
import { InstancePool } from '../scheduling/instance-pool.ts';
import { Scheduler } from '../scheduling/scheduler.ts';
import type { SchedulerObserver } from '../scheduling/scheduler-observer.ts';
import type { Abandonment } from './load-deadline.ts';
import { ServedVersion } from './served-version.ts';
import { resolveSignature } from './signature.ts';
import { generatedSamples, probeRequest, runWarmup, samplesFromFile } from './warmup.ts';

export interface VersionLoadSpec {
  model: string;
  version: number;
  artifactPath: string;
  /** Size of the artifact in bytes (chooses the default threads). */
  artifactBytes: number;
  config: ModelConfig;
  /** Where the config came from, for messages. */
  configSource: string;
}

export interface VersionLoaderContext {
  runtime: Runtime;
  clock: Clock;
  cpuCount: number;
  log: Logger;
  /** The observer of a version's scheduler (metrics, tracing), asked once per loaded version. */
  observeScheduler?: (model: string, version: number) => SchedulerObserver | undefined;
}

/** A load that failed: `reason` is the version's UNAVAILABLE reason (`load failed: …`, `config error: …`, `warm-up failed: …`). */
export class VersionLoadError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'VersionLoadError';
  }
}

/**
 * Loads, warms and schedules one version. Once `abandonment` says the load was abandoned (its
 * deadline passed, see load-deadline.ts), it takes no further step: it closes what it made and
 * fails. @throws VersionLoadError.
 */
export async function loadVersion(spec: VersionLoadSpec, ctx: VersionLoaderContext, abandonment: Abandonment = { abandoned: false }): Promise<ServedVersion> {
  const { config } = spec;
  const label = `${spec.model}:${spec.version}`;
  const threads = threadsFor(spec, ctx.cpuCount);
  const load = async (index: number): Promise<Instance> =>
    (await ctx.runtime.loadInstance({ artifactPath: spec.artifactPath, threads, label: `${label}#${index}` })).instance;
  const instances: Instance[] = [];
  const fail = async (reason: string): Promise<never> => {
    await Promise.all(instances.map((i) => i.close()));
    throw new VersionLoadError(reason);
  };
  let first;
  try {
    first = await ctx.runtime.loadInstance({ artifactPath: spec.artifactPath, threads, label: `${label}#0` });
  } catch (err) {
    return fail(`load failed: ${(err as Error).message}`);
  }
  instances.push(first.instance);
  const ABANDONED = 'load abandoned at its deadline';
  if (abandonment.abandoned) return fail(ABANDONED);
  const resolved = resolveSignature(first.signature, config);
  if ('problems' in resolved) return fail(`config error: ${resolved.problems.map((p) => `${spec.configSource}: ${p}`).join('; ')}`);
  const signature = resolved.signature;
  try {
    for (let i = 1; i < config.instanceCount && !abandonment.abandoned; i++) instances.push(await load(i));
  } catch (err) {
    return fail(`load failed: ${(err as Error).message}`);
  }
  if (abandonment.abandoned) return fail(ABANDONED);
  if (config.warmup !== undefined) {
    try {
      const samples = generatedSamples(config.warmup, signature);
      if (config.warmup.samplesPath !== undefined) samples.push(...(await samplesFromFile(config.warmup.samplesPath, signature, spec.model)));
      await runWarmup(instances, samples, config.warmup.iterations, signature);
    } catch (err) {
      const message = (err as Error).message;
      return fail(message.startsWith('warm-up') ? message : `warm-up failed: ${message}`);
    }
    if (abandonment.abandoned) return fail(ABANDONED);
  }
  const log = ctx.log.child({ model: spec.model, version: spec.version });
  const observer = ctx.observeScheduler?.(spec.model, spec.version);
  const pool = InstancePool.fromInstances(instances, {
    load,
    clock: ctx.clock,
    executionsPerInstance: config.executionsPerInstance,
    hangTimeoutMs: config.instanceHangTimeoutMs,
    onEvent: (e) => {
      if (e.kind === 'replaced') log.info(`instance ${e.label}: ${e.reason}`);
      else log.error(`instance ${e.label} ${e.kind}: ${e.reason}`);
      observer?.instanceEvent?.(e.kind);
    },
  });
  const scheduler = new Scheduler(pool, {
    label: `model '${spec.model}' version ${spec.version}`,
    clock: ctx.clock,
    maxBatchSize: config.dynamicBatching.enabled ? signature.maxBatchSize : 0,
    maxQueueDelayMs: config.dynamicBatching.maxQueueDelayMs,
    preferredBatchSizes: config.dynamicBatching.preferredBatchSizes,
    maxQueueSize: config.maxQueueSize,
    observer,
    // A warm-up that succeeded shows the version answers; without one, a probe can show it.
    warmedUp: config.warmup !== undefined,
    probe: () => probeRequest(signature),
  });
  log.debug({ instances: config.instanceCount, threadsPerInstance: threads }, `version ${spec.version} loaded`);
  const cache = config.responseCache === undefined ? undefined : { generation: await generationOf(spec), ttlMs: config.responseCache.ttlMs };
  return new ServedVersion(spec.model, spec.version, ctx.runtime.platform, signature, scheduler, pool, cache, config);
}

/**
 * What identifies a loaded generation across replicas: a hash of the model file's contents and
 * of the config. (Sizes and modification times differ between copies of the same files.)
 */
async function generationOf(spec: VersionLoadSpec): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(spec.artifactPath), hash);
  return createHash('sha256').update(hash.digest('hex')).update(JSON.stringify(spec.config)).digest('base64url').slice(0, 22);
}

/** Threads per instance a load will use (for the READY log line). */
export function threadsFor(spec: Pick<VersionLoadSpec, 'config' | 'artifactBytes'>, cpuCount: number): number {
  return spec.config.threadsPerInstance ?? defaultThreadsPerInstance(cpuCount, spec.config.instanceCount, spec.artifactBytes);
}
