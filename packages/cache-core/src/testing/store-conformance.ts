/**
 * The behaviour every CacheStore driver must have. Each driver's test file calls
 * `describeStoreConformance` with a factory for a fresh, empty store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheStore, StoredEntry } from '../stores/cache-store.js';

const forever = (value: unknown, extra: Partial<StoredEntry> = {}): StoredEntry => ({ value, expiresAt: Infinity, ...extra });

/** What a driver claims beyond the required methods; each claim is tested. */
export interface StoreCapabilities {
  /** It implements `lock()` (distributed single-flight with leases). */
  lock?: boolean;
}

/**
 * Registers the conformance suite for a driver: `makeStore` gives a fresh, empty, connected
 * store each time. Every driver this package ships runs it; third-party drivers should too.
 */
export function describeStoreConformance(name: string, makeStore: () => Promise<CacheStore>, capabilities: StoreCapabilities = {}): void {
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
        map: new Map<unknown, unknown>([
          ['a', 1],
          [2, new Map([['inner', new Date(0)]])],
        ]),
        set: new Set([1, 'x', 2n]),
        bigint: 12345678901234567890123n,
        negativeZero: -0,
        nested: { zero: -0, list: [-0, 0] },
        int32: new Int32Array([1, -2, 3]),
        float64: new Float64Array([1.5, -0.25]),
        nullPrototype: Object.assign(Object.create(null) as object, { a: 1 }),
        negativeBigint: -(2n ** 70n),
        buffer: Buffer.from([0, 1, 2, 255]),
        longPrompt: 'You are the engineer agent. '.repeat(400),
        cjkPrompt: '你是负责审查代码的工程师代理。'.repeat(600),
        mixedPrompt: `${'Review the diff. 请审查差异。'.repeat(300)} 🙂`,
        nestedCjk: { system: '提示词缓存'.repeat(200), turns: ['任务上下文'.repeat(150)] },
      };
      for (const [key, value] of Object.entries(values)) await store.set(`types:${key}`, forever(value));
      for (const [key, value] of Object.entries(values)) {
        const entry = await store.get(`types:${key}`);
        if (key === 'nullPrototype') expect({ ...(entry?.value as object) }, key).toEqual({ a: 1 });
        else expect(entry?.value, key).toStrictEqual(value);
      }
      expect(Object.is((await store.get('types:negativeZero'))?.value, -0)).toBe(true);
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

    it('lists live keys matching a pattern with their size and remaining TTL, up to a limit', async () => {
      await fresh();
      if (store.keys === undefined) return;
      await store.set('agent:qa', forever('x'.repeat(1000)));
      await store.set('agent:eng', { value: 'y', expiresAt: Date.now() + 60_000 });
      await store.set('agent:gone', { value: 'z', expiresAt: Date.now() + 30 });
      await store.set('task:1', forever(1));
      await new Promise((resolve) => setTimeout(resolve, 60));
      const listed = (await store.keys('agent:*', 10)).sort((a, b) => a.key.localeCompare(b.key));
      expect(listed.map((k) => k.key)).toEqual(['agent:eng', 'agent:qa']);
      const [eng, qa] = listed;
      expect(eng?.ttlMs).toBeGreaterThan(50_000);
      expect(eng?.ttlMs).toBeLessThanOrEqual(60_000);
      expect(qa?.ttlMs).toBe(Infinity);
      expect(qa?.sizeBytes).toBeGreaterThan(eng?.sizeBytes ?? Infinity);
      expect(await store.keys('*', 2)).toHaveLength(2);
      expect(await store.keys('none:*', 10)).toEqual([]);
    });

    it('treats hostile keys as plain data: "../", NUL, 10 KB', async () => {
      await fresh();
      const hostile = ['../../etc/passwd', 'a\u0000b', 'x'.repeat(10_240), 'ns:with/slashes/../..', '字:🙂'];
      for (const key of hostile) await store.set(key, forever(key.length));
      for (const key of hostile) expect((await store.get(key))?.value).toBe(key.length);
      expect(await store.invalidate('*\u0000*')).toBe(1);
    });

    it('invalidates by tag exactly the entries carrying any of the tags', async () => {
      await fresh();
      await store.set('p:1', forever(1, { tags: ['file:/a.md'] }));
      await store.set('p:2', forever(2, { tags: ['file:/a.md', 'file:/b.md'] }));
      await store.set('p:3', forever(3, { tags: ['file:/b.md'] }));
      await store.set('p:4', forever(4));
      await store.set('tag:file:/a.md', forever('a key that looks like a tag'));
      expect((await store.get('p:1'))?.tags).toEqual(['file:/a.md']);
      expect(await store.invalidateTags(['file:/a.md'])).toBe(2);
      const left = async () =>
        (
          await Promise.all(
            ['p:1', 'p:2', 'p:3', 'p:4', 'tag:file:/a.md'].map(async (k) => ((await store.get(k)) === undefined ? undefined : k)),
          )
        ).filter(Boolean);
      expect(await left()).toEqual(['p:3', 'p:4', 'tag:file:/a.md']);
      expect(await store.invalidateTags(['file:/a.md', 'nothing'])).toBe(0);
      // A key written again with the tag is indexed again.
      await store.set('p:1', forever('again', { tags: ['file:/a.md'] }));
      expect(await store.invalidateTags(['file:/b.md', 'file:/a.md'])).toBe(2);
      expect(await left()).toEqual(['p:4', 'tag:file:/a.md']);
    });

    it('clears everything and reports health', async () => {
      await fresh();
      await store.set('a', forever(1));
      await store.clear();
      expect(await store.get('a')).toBeUndefined();
      expect(await store.health()).toMatchObject({ ok: true });
    });

    if (capabilities.lock === true)
      it('holds a lock as a lease: one holder, renewed while held, taken over once it lapses', async () => {
        await fresh();
        const first = await store.lock?.('job', 200);
        if (first === undefined) throw new Error('the first lock() must take the lock');
        expect(await store.lock?.('job', 200)).toBeUndefined();
        await new Promise((resolve) => setTimeout(resolve, 120));
        expect(await first.renew(200)).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 120));
        expect(await store.lock?.('job', 200)).toBeUndefined(); // renewed: still held after the first 200 ms
        await new Promise((resolve) => setTimeout(resolve, 150));
        const second = await store.lock?.('job', 200); // lapsed: another process takes it
        if (second === undefined) throw new Error('a lapsed lease must let another holder take the lock');
        expect(await first.renew(200)).toBe(false); // the old holder knows it lost it
        await first.release(); // and cannot release the new holder's lock
        expect(await store.lock?.('job', 200)).toBeUndefined();
        await second.release();
        expect(await store.lock?.('job', 200)).toBeDefined();
      });

    it('reads or locks in one call where it can: the entry, else the lock for one caller at a time', async () => {
      await fresh();
      await store.set('present', forever('value'));
      const probe = await store.readOrLock?.('present', 1000);
      if (probe === undefined) return; // not offered here (Redis Cluster): the cache reads, then locks
      expect(probe).toMatchObject({ found: 'entry', entry: { value: 'value' } });
      const first = await store.readOrLock?.('absent', 1000);
      if (first?.found !== 'nothing' || first.lease === undefined) throw new Error('a miss must take the free lock');
      expect(await store.readOrLock?.('absent', 1000)).toEqual({ found: 'nothing', lease: undefined });
      expect(await store.lock?.('absent', 1000)).toBeUndefined(); // the same lock as lock()
      await first.lease.release();
      const again = await store.readOrLock?.('absent', 1000);
      expect(again).toMatchObject({ found: 'nothing' });
      expect(again?.found === 'nothing' && again.lease !== undefined).toBe(true);
      await store.set('expired', { value: 'old', expiresAt: Date.now() + 30 });
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(await store.readOrLock?.('expired', 1000)).toMatchObject({ found: 'nothing' });
    });
  });
}
