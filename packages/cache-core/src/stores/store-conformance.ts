/**
 * The behaviour every CacheStore driver must have. Each driver's test file calls
 * `describeStoreConformance` with a factory for a fresh, empty store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheStore, StoredEntry } from './cache-store.js';

const forever = (value: unknown, extra: Partial<StoredEntry> = {}): StoredEntry => ({ value, expiresAt: Infinity, ...extra });

export function describeStoreConformance(name: string, makeStore: () => Promise<CacheStore>): void {
  describe(`${name}: CacheStore conformance`, () => {
    let store: CacheStore;
    const opened: CacheStore[] = [];
    const fresh = async () => {
      store = await makeStore();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const s of opened.splice(0)) {
        await s.clear();
        await s.close?.();
      }
    });

    it('round-trips values of every supported type', async () => {
      await fresh();
      const values: Record<string, unknown> = {
        string: 'héllo 字 🙂',
        empty: '',
        number: 1.5,
        int: -42,
        null: null,
        boolean: false,
        array: [1, 'two', [3], { four: 4 }],
        object: { nested: { deep: [null, true] }, 'key with spaces': 1 },
        date: new Date('2026-11-22T10:00:00.000Z'),
        map: new Map<unknown, unknown>([['a', 1], [2, new Map([['inner', new Date(0)]])]]),
        set: new Set([1, 'x', 2n]),
        bigint: 12345678901234567890123n,
        negativeBigint: -(2n ** 70n),
        buffer: Buffer.from([0, 1, 2, 255]),
        longPrompt: 'You are the engineer agent. '.repeat(400),
      };
      for (const [key, value] of Object.entries(values)) await store.set(`types:${key}`, forever(value));
      for (const [key, value] of Object.entries(values)) {
        const entry = await store.get(`types:${key}`);
        expect(entry?.value, key).toEqual(value);
      }
      expect(Buffer.isBuffer((await store.get('types:buffer'))?.value)).toBe(true);
    });

    it('keeps metadata, the prompt flag and the expiry', async () => {
      await fresh();
      const expiresAt = Date.now() + 60_000;
      await store.set('p:1', { value: 'text', expiresAt, metadata: { agent: 'qa', n: 1 }, prompt: true });
      const entry = await store.get('p:1');
      expect(entry).toMatchObject({ value: 'text', metadata: { agent: 'qa', n: 1 }, prompt: true });
      expect(Math.abs((entry?.expiresAt ?? 0) - expiresAt)).toBeLessThan(5);
    });

    it('never returns an expired entry', async () => {
      await fresh();
      await store.set('ttl:short', { value: 1, expiresAt: Date.now() + 50 });
      expect((await store.get('ttl:short'))?.value).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await store.get('ttl:short')).toBeUndefined();
    });

    it('overwrites, deletes (true only for existing keys) and misses', async () => {
      await fresh();
      await store.set('k', forever('v1'));
      await store.set('k', forever('v2'));
      expect((await store.get('k'))?.value).toBe('v2');
      expect(await store.delete('k')).toBe(true);
      expect(await store.delete('k')).toBe(false);
      expect(await store.get('k')).toBeUndefined();
    });

    it('reads many keys in order, undefined for misses', async () => {
      await fresh();
      await store.set('m:1', forever(1));
      await store.set('m:3', forever(3));
      const read = store.mget ? await store.mget(['m:1', 'm:2', 'm:3']) : await Promise.all(['m:1', 'm:2', 'm:3'].map((k) => store.get(k)));
      expect(read.map((e) => e?.value)).toEqual([1, undefined, 3]);
    });

    it('invalidates with the cache pattern semantics and counts what it removed', async () => {
      await fresh();
      const keys = ['task_prompt:qa:1', 'task_prompt:eng:/a/b', 'agent_profile:qa:/p', 'v:1', 'v:2', 'v:10', 'w:a', 'w:b'];
      for (const key of keys) await store.set(key, forever(key));
      expect(await store.invalidate('task_prompt:*')).toBe(2);
      expect(await store.invalidate('*:/p')).toBe(1);
      expect(await store.invalidate('v:?')).toBe(2);
      expect(await store.invalidate('w:[a]')).toBe(1);
      expect(await store.invalidate('nothing:*')).toBe(0);
      const left = await Promise.all(keys.map(async (k) => ((await store.get(k)) === undefined ? undefined : k)));
      expect(left.filter(Boolean)).toEqual(['v:10', 'w:b']);
    });

    it('treats hostile keys as plain data: "../", NUL, 10 KB', async () => {
      await fresh();
      const hostile = ['../../etc/passwd', 'a\u0000b', 'x'.repeat(10_240), 'ns:with/slashes/../..', '字:🙂'];
      for (const key of hostile) await store.set(key, forever(key.length));
      for (const key of hostile) expect((await store.get(key))?.value).toBe(key.length);
      expect(await store.invalidate('*\u0000*')).toBe(1);
    });

    it('clears everything and reports health', async () => {
      await fresh();
      await store.set('a', forever(1));
      await store.clear();
      expect(await store.get('a')).toBeUndefined();
      expect(await store.health()).toMatchObject({ ok: true });
    });
  });
}
