// Performing one load (or reload) of a version, as nextTransition asked: residency admission,
// the load under a load slot, and the outcome reported to the version's state machine. A reload
// swaps generations at once and the old one drains (nothing admitted is dropped).
//
// Every load is bounded by the config's loadTimeoutMs, counted from when it holds a load slot.
// A load still running then is abandoned, not stopped (see load-deadline.ts): the version fails
// with loadTimeoutReason, the slot is freed, and everything waiting on the load (start-up,
// whenSettled, a request loading on demand, shutdown) goes on. If the abandoned load finishes
// later, its generation is unloaded at once and never serves; the state machine never hears of
// it (a later load of the same version may be under way by then).
import { abandonAfter, type Bounded } from './load-deadline.ts';
import type { ModelContext } from './model-context.ts';
import type { ModelSource } from './model-source.ts';
import type { ServedVersion } from './served-version.ts';
import { loadVersion, threadsFor, VersionLoadError, type VersionLoadSpec } from './version-loader.ts';
import type { VersionRecord } from './version-record.ts';
import { loadTimeoutReason, type VersionEvent } from './version-state.ts';

/** What a load needs of the model it belongs to. */
export interface LoadHost {
  readonly name: string;
  readonly ctx: ModelContext;
  readonly source: ModelSource;
  /** Some version of the model serves (a load is then a swap, see ModelContext.admit). */
  serving(): boolean;
  /** Desired and able to take the default traffic once READY (see ModelContext.onReady). */
  takesDefaultTraffic(version: number): boolean;
  /** The model changed: statuses are decided again. */
  changed(): void;
  /** Drains a released generation in the background. */
  drain(record: VersionRecord, served: ServedVersion): void;
}

/** Loads `record`'s version (a first load, or a reload of a READY one); reports the outcome on the record. */
export async function loadInto(host: LoadHost, record: VersionRecord, kind: 'load' | 'reload'): Promise<void> {
  const { ctx, source } = host;
  const entry = source.entry.versions.find((v) => v.version === record.version);
  const config = source.config!;
  const fingerprint = source.fingerprintOf(record.version);
  if (entry === undefined || fingerprint === undefined) return;
  const failed = (reason: string, event: VersionEvent = { type: 'load-failed', fingerprint, reason }): void => {
    record.answer();
    record.apply(event);
    const state = record.life.state;
    if (state.kind === 'ready') ctx.log.error({ version: record.version }, `version ${record.version}: ${state.reloadFailure!.reason}`);
    else ctx.log.error({ version: record.version }, `version ${record.version} is UNAVAILABLE: ${reason}`);
    record.notify();
  };
  if (entry.fingerprint === 'missing') return failed(`load failed: ${entry.artifactPath} is missing; a version folder holds its model as model.onnx`);
  // The size the scan read: no await between here and admit(), so versions starting to load
  // together are admitted in the order their loads began (a stat here let them race).
  const artifactBytes = entry.artifactBytes;
  const spec: VersionLoadSpec = { model: host.name, version: record.version, artifactPath: entry.artifactPath, artifactBytes, config, configSource: source.configSource };
  const bytes = config.memoryBytes ?? Math.max(1, artifactBytes) * config.instanceCount;
  const mode = record.demanded ? 'demanded' : host.serving() ? 'swap' : 'background';
  const admission = ctx.admit(host.name, record.version, bytes, mode);
  if (!admission.ok) {
    record.apply({ type: 'refused', fingerprint, reason: admission.reason, retry: admission.retry });
    record.answer(admission.retry === 'busy' ? admission.reason : undefined);
    record.notify();
    return;
  }
  record.apply({ type: 'load-started' });
  record.bytes = bytes;
  host.changed();
  const started = ctx.clock.now();
  const timeoutMs = config.loadTimeoutMs;
  const abandoned = (late: ServedVersion): void => {
    ctx.log.warn({ version: record.version }, `version ${record.version}: a load abandoned after ${timeoutMs} ms (loadTimeoutMs) finished late; its instances are closed, it never serves`);
    void late.unload(0, ctx.clock).catch((err: unknown) => ctx.log.error({ version: record.version }, `closing the late load of version ${record.version} failed: ${(err as Error).message}`));
  };
  let outcome: Bounded<ServedVersion>;
  try {
    outcome = await ctx.withLoadSlot(() => abandonAfter(ctx.clock, timeoutMs, (abandonment) => loadVersion(spec, ctx, abandonment), abandoned));
  } catch (err) {
    return failed(err instanceof VersionLoadError ? err.reason : `load failed: ${(err as Error).message}`);
  }
  if (outcome.timedOut) return failed(loadTimeoutReason(timeoutMs), { type: 'load-timed-out', fingerprint, timeoutMs });
  const served = outcome.value;
  const loadMs = Math.round(ctx.clock.now() - started);
  const previous = record.served;
  record.apply({ type: 'loaded', served, fingerprint });
  record.answer();
  record.signature = { inputs: served.signature.inputs, outputs: served.signature.outputs };
  record.loadMs = loadMs;
  record.lastUsedMs = ctx.clock.now();
  if (previous !== undefined) host.drain(record, previous);
  ctx.log.info(
    { version: record.version, loadMs, instances: config.instanceCount, threadsPerInstance: threadsFor(spec, ctx.cpuCount) },
    `version ${record.version} is READY${kind === 'reload' ? ' (reloaded with changed files)' : ''}`,
  );
  host.changed();
  if (host.takesDefaultTraffic(record.version)) ctx.onReady(host.name, record.version);
  record.notify();
}
