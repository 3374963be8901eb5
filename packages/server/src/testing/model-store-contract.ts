// The contract every ModelStore adapter passes (DESIGN.md, Conventions 3): listings, versions,
// configs and artifacts, and that every change the owner makes shows in the next listing (the
// model manager polls by listing again). An adapter's test gives a fresh, empty store and a
// writer that changes it the adapter's way (files for the filesystem, calls for memory).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/validate.ts';
import type { ModelStore } from '../repository/model-store.ts';

/** Changes a store as its owner would (the store itself is read-only to the manager). */
export interface ModelStoreWriter {
  /** Puts or replaces a version's artifact (null: a version without one). */
  putVersion(model: string, version: number, artifact: string | null): Promise<void>;
  removeVersion(model: string, version: number): Promise<void>;
  /** Puts a model's config.yaml text, or removes it (undefined). */
  putConfig(model: string, text: string | undefined): Promise<void>;
  removeModel(model: string): Promise<void>;
}

export interface ModelStoreUnderTest {
  store: ModelStore;
  writer: ModelStoreWriter;
  close(): Promise<void>;
}

export function modelStoreContract(name: string, adapter: { open: () => Promise<ModelStoreUnderTest> }): void {
  const withStore = async (fn: (s: ModelStoreUnderTest) => Promise<void>): Promise<void> => {
    const s = await adapter.open();
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  };
  const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

  describe(`ModelStore contract: ${name}`, () => {
    it('lists nothing when empty; a model that is not there has no versions and does not exist', () =>
      withStore(async ({ store }) => {
        expect(await store.list()).toEqual([]);
        const missing = await store.model('iris');
        expect([missing.name, missing.exists, missing.versions, missing.configPath]).toEqual(['iris', false, [], undefined]);
        expect(typeof store.location).toBe('string');
      }));

    it('lists models by name with their versions ascending, configs and artifacts', () =>
      withStore(async ({ store, writer }) => {
        await writer.putVersion('wine', 1, 'w1');
        await writer.putVersion('iris', 10, 'ten!');
        await writer.putVersion('iris', 2, 'two');
        await writer.putConfig('iris', 'maxBatchSize: 8\nlabels:\n  stable: 2\n');
        const models = await store.list();
        expect(models.map((m) => m.name)).toEqual(['iris', 'wine']);
        const iris = models[0]!;
        expect(iris.exists).toBe(true);
        expect(iris.versions.map((v) => [v.version, v.artifactBytes])).toEqual([[2, 3], [10, 4]]);
        expect(iris.configPath).toBeDefined();
        expect(models[1]!.configPath).toBeUndefined();
        expect(models[1]!.configFingerprint).toBe('none');
        expect(await store.readConfig(iris)).toEqual({ maxBatchSize: 8, labels: { stable: 2 } });
        expect(await store.readConfig(models[1]!)).toBeUndefined();
        expect(text(await store.readArtifact('iris', 10))).toBe('ten!');
        expect((await store.model('iris')).versions.map((v) => v.version)).toEqual([2, 10]);
      }));

    it('shows every change in the next listing: new fingerprints, removed versions and models', () =>
      withStore(async ({ store, writer }) => {
        await writer.putVersion('iris', 1, 'one');
        await writer.putConfig('iris', 'maxBatchSize: 8\n');
        const before = await store.model('iris');
        await writer.putVersion('iris', 1, 'one, retrained');
        await writer.putConfig('iris', 'maxBatchSize: 16\n');
        await writer.putVersion('iris', 2, 'two');
        const after = await store.model('iris');
        expect(after.versions[0]!.fingerprint).not.toBe(before.versions[0]!.fingerprint);
        expect(after.configFingerprint).not.toBe(before.configFingerprint);
        expect(after.versions.map((v) => v.version)).toEqual([1, 2]);
        expect(await store.readConfig(after)).toEqual({ maxBatchSize: 16 });
        expect((await store.model('iris')).versions[0]!.fingerprint).toBe(after.versions[0]!.fingerprint);
        await writer.removeVersion('iris', 1);
        expect((await store.model('iris')).versions.map((v) => v.version)).toEqual([2]);
        await writer.putConfig('iris', undefined);
        expect((await store.model('iris')).configPath).toBeUndefined();
        await writer.removeModel('iris');
        expect((await store.model('iris')).exists).toBe(false);
        expect(await store.list()).toEqual([]);
      }));

    it('lists a version without its artifact as missing; reading it fails', () =>
      withStore(async ({ store, writer }) => {
        await writer.putVersion('iris', 1, null);
        const v = (await store.model('iris')).versions[0]!;
        expect([v.version, v.fingerprint, v.artifactBytes]).toEqual([1, 'missing', 0]);
        await expect(store.readArtifact('iris', 1)).rejects.toThrow(/missing|ENOENT/);
      }));

    it('reports a config that does not parse as a ConfigError naming its source', () =>
      withStore(async ({ store, writer }) => {
        await writer.putVersion('iris', 1, 'one');
        await writer.putConfig('iris', 'maxBatchSize: [1\n');
        const entry = await store.model('iris');
        const err = await store.readConfig(entry).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as Error).message).toContain(entry.configPath!);
      }));
  });
}
