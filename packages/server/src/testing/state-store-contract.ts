// The contract every StateStore adapter passes (DESIGN.md, Conventions 3). An adapter's test
// calls stateStoreContract with a factory that opens a fresh, empty store.
import { describe, expect, it } from 'vitest';
import type { StateStore } from '../state/state-store.ts';

/**
 * `open` gives a fresh, empty store; for durable adapters, `reopen` opens the store that `open`
 * gave last, after it was closed (the persistence test runs only then).
 */
export function stateStoreContract(name: string, adapter: { open: () => Promise<StateStore>; reopen?: () => Promise<StateStore> }): void {
  const open = async (): Promise<{ store: StateStore }> => ({ store: await adapter.open() });
  describe(`StateStore contract: ${name}`, () => {
    it('stores, reads, overwrites and deletes JSON values by namespace and key', async () => {
      const { store } = await open();
      try {
        expect(await store.get('labels', 'iris')).toBeUndefined();
        await store.put('labels', 'iris', { stable: { version: 2, history: [1] } });
        await store.put('labels', 'flowers', { canary: { version: 3, history: [] } });
        await store.put('explicit', 'iris', { loaded: true });
        expect(await store.get('labels', 'iris')).toEqual({ stable: { version: 2, history: [1] } });
        await store.put('labels', 'iris', { stable: { version: 3, history: [1, 2] } });
        expect(await store.get('labels', 'iris')).toEqual({ stable: { version: 3, history: [1, 2] } });
        expect([...(await store.list('labels')).entries()]).toEqual([
          ['flowers', { canary: { version: 3, history: [] } }],
          ['iris', { stable: { version: 3, history: [1, 2] } }],
        ]);
        expect(await store.delete('labels', 'flowers')).toBe(true);
        expect(await store.delete('labels', 'flowers')).toBe(false);
        expect([...(await store.list('labels')).keys()]).toEqual(['iris']);
        expect(await store.get('explicit', 'iris')).toEqual({ loaded: true });
      } finally {
        await store.close();
      }
    });

    it('exports a snapshot and imports one in place of everything', async () => {
      const { store } = await open();
      try {
        await store.put('a', 'x', 1);
        await store.put('b', 'y', [true, 'two']);
        const snapshot = await store.export();
        expect(snapshot).toMatchObject({ format: 'sibyl-state', formatVersion: 1, entries: { a: { x: 1 }, b: { y: [true, 'two'] } } });
        expect(Date.parse(snapshot.exportedAt)).not.toBeNaN();
        await store.put('c', 'z', 'gone after import');
        await store.import({ ...snapshot, entries: { a: { x: 2 } } });
        expect((await store.export()).entries).toEqual({ a: { x: 2 } });
      } finally {
        await store.close();
      }
    });

    const reopen = adapter.reopen;
    if (reopen === undefined) return;
    it('keeps what was written across a reopen', async () => {
      const { store } = await open();
      await store.put('labels', 'm', { stable: { version: 7, history: [] } });
      await store.close();
      const again = await reopen();
      try {
        expect(await again.get('labels', 'm')).toEqual({ stable: { version: 7, history: [] } });
      } finally {
        await again.close();
      }
    });
  });
}
