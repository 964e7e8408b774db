import { describe, expect, it } from 'vitest';
import { SharedPromptCache } from '../shared-prompt-cache.js';
import { FrequencySketch, hashKey } from './frequency-sketch.js';

/** A deterministic pseudo-random sequence (LCG), so a failing trace can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
}

/** Reads each key, writing it on a miss (what getOrCompute does); resolves the hit ratio. */
function replay(cache: SharedPromptCache, trace: readonly string[]): number {
  let hits = 0;
  for (const key of trace) {
    if (cache.getSync(key) !== undefined) hits++;
    else cache.setSync(key, key);
  }
  return hits / trace.length;
}

const both = ['lru', 'tinylfu'] as const;

describe('L1 accounting under any sequence of operations', () => {
  it.each(both)('%s: counts equal what is held after 20 000 random writes, overwrites, deletes and invalidations', async (eviction) => {
    const cache = new SharedPromptCache({ maxEntries: 200, maxMemoryMb: 0.05, eviction });
    const next = random(7);
    for (let i = 0; i < 20_000; i++) {
      const key = `ns${Math.floor(next() * 5)}:${Math.floor(next() * 400)}`;
      const roll = next();
      if (roll < 0.6) cache.setSync(key, 'x'.repeat(Math.floor(next() * 600)), { tags: next() < 0.3 ? [`t${i % 3}`] : undefined });
      else if (roll < 0.8) cache.getSync(key);
      else if (roll < 0.9) await cache.delete(key);
      else if (roll < 0.95) await cache.invalidate(`ns${Math.floor(next() * 5)}:*`);
      else await cache.invalidateTags([`t${i % 3}`]);
    }
    const info = cache.getCacheInfo();
    const metrics = cache.getMetrics();
    expect(metrics.entryCount).toBe(info.entries.length);
    expect(metrics.entryCount).toBeLessThanOrEqual(200);
    expect(metrics.sizeBytes).toBe(info.entries.reduce((sum, e) => sum + e.sizeBytes, 0));
    expect(metrics.sizeBytes).toBeLessThanOrEqual(0.05 * 1024 * 1024);
    const perNamespace = Object.values(metrics.namespaces).reduce((sum, ns) => sum + ns.entryCount, 0);
    expect(perNamespace).toBe(metrics.entryCount);
    // The namespace lists hold exactly the live keys: invalidating each namespace removes them all.
    let removed = 0;
    for (let ns = 0; ns < 5; ns++) removed += await cache.invalidate(`ns${ns}:*`);
    expect(removed).toBe(info.entries.length);
    expect(cache.getMetrics()).toMatchObject({ entryCount: 0, sizeBytes: 0 });
    await cache.start();
    expect((await cache.healthCheck()).checks.l1).toBe(true);
    await cache.stop();
  });

  it('moves a rewritten key between tags by the difference only', async () => {
    const cache = new SharedPromptCache();
    cache.setSync('p:1', 'a', { tags: ['x', 'y'] });
    cache.setSync('p:1', 'b', { tags: ['y', 'z'] });
    expect(await cache.invalidateTags(['x'])).toBe(0);
    cache.setSync('p:1', 'c', { tags: ['y', 'z'] });
    cache.setSync('p:1', 'd');
    expect(await cache.invalidateTags(['y', 'z'])).toBe(0);
    cache.setSync('p:1', 'e', { tags: ['z'] });
    expect(await cache.invalidateTags(['z'])).toBe(1);
    expect(cache.getSync('p:1')).toBeUndefined();
  });

  it.each(both)(
    '%s: forgets the tags of an evicted entry, so a later untagged write of its key is not invalidated by them',
    async (eviction) => {
      const cache = new SharedPromptCache({ maxEntries: 2, eviction });
      cache.setSync('a:1', 'tagged', { tags: ['t'] });
      for (let i = 2; i < 40; i++) cache.setSync(`a:${i}`, i);
      expect(cache.getSync('a:1')).toBeUndefined();
      cache.setSync('a:1', 'untagged');
      expect(await cache.invalidateTags(['t'])).toBe(0);
      expect(cache.getSync('a:1')).toBe('untagged');
    },
  );

  it('keeps a key once in its namespace however often it is rewritten', async () => {
    const cache = new SharedPromptCache({ maxEntries: 10 });
    for (let i = 0; i < 1000; i++) cache.setSync('hot:key', i);
    cache.setSync('hot:other', 1);
    expect(await cache.invalidate('hot:*')).toBe(2);
    expect(cache.getMetrics().namespaces.hot?.entryCount ?? 0).toBe(0);
    expect(cache.getMetrics().sizeBytes).toBe(0);
  });
});

describe("eviction: 'tinylfu'", () => {
  it('rejects an unknown policy, naming the choices', () => {
    expect(() => new SharedPromptCache({ eviction: 'lfu' as never })).toThrow(/eviction must be one of 'lru', 'tinylfu', got "lfu"/);
  });

  it('keeps the entries read again and again through a one-off scan that flushes LRU', () => {
    const hot = Array.from({ length: 50 }, (_, i) => `agent:${i}`);
    const scan = Array.from({ length: 1000 }, (_, i) => `batch:${i}`);
    const ratios = both.map((eviction) => {
      const cache = new SharedPromptCache({ maxEntries: 100, eviction });
      for (let round = 0; round < 5; round++) replay(cache, hot);
      replay(cache, scan);
      return replay(cache, hot);
    });
    expect(ratios[0]).toBe(0);
    expect(ratios[1]).toBeGreaterThan(0.9);
  });

  it('hits on a loop slightly larger than the cache, where LRU never does', () => {
    const loop = Array.from({ length: 120 }, (_, i) => `task:${i}`);
    const trace = Array.from({ length: 20 }, () => loop).flat();
    const [lru, tinylfu] = both.map((eviction) => replay(new SharedPromptCache({ maxEntries: 100, eviction }), trace));
    expect(lru).toBe(0);
    expect(tinylfu).toBeGreaterThan(0.5);
  });

  it('is no worse than LRU on a skewed (Zipf-like) trace, and respects both limits and counts evictions', () => {
    const next = random(3);
    const trace = Array.from({ length: 50_000 }, () => `k:${Math.floor(1000 * next() ** 3)}`);
    const caches = both.map((eviction) => new SharedPromptCache({ maxEntries: 100, maxMemoryMb: 0.02, eviction }));
    const [lru, tinylfu] = caches.map((cache) => replay(cache, trace));
    expect(tinylfu).toBeGreaterThanOrEqual(lru!);
    const metrics = caches[1]!.getMetrics();
    expect(metrics.entryCount).toBeLessThanOrEqual(100);
    expect(metrics.sizeBytes).toBeLessThanOrEqual(0.02 * 1024 * 1024);
    expect(metrics.evictions).toBe(metrics.sets - metrics.entryCount);
  });

  it('still caches a new key that is read right after it is written (the window)', () => {
    const cache = new SharedPromptCache({ maxEntries: 100, eviction: 'tinylfu' });
    for (let i = 0; i < 100; i++) for (let r = 0; r < 3; r++) replay(cache, [`old:${i}`]);
    cache.setSync('new:1', 'fresh');
    expect(cache.getSync('new:1')).toBe('fresh');
  });

  it('evicts for bytes too: one entry as large as the budget replaces the rest', () => {
    const cache = new SharedPromptCache({ maxEntries: 100, maxMemoryMb: 0.01, eviction: 'tinylfu' });
    for (let i = 0; i < 20; i++) cache.setSync(`s:${i}`, 'x'.repeat(100));
    cache.setSync('big', 'y'.repeat(9000));
    expect(cache.getMetrics().sizeBytes).toBeLessThanOrEqual(0.01 * 1024 * 1024);
    expect(cache.getSync('big')).toHaveLength(9000);
  });
});

describe('FrequencySketch', () => {
  it('counts up to 15 per key and tells keys apart', () => {
    const sketch = new FrequencySketch(1000);
    const a = hashKey('agent:a');
    const b = hashKey('agent:b');
    for (let i = 0; i < 7; i++) sketch.increment(a);
    expect(sketch.frequency(a)).toBe(7);
    expect(sketch.frequency(b)).toBe(0);
    for (let i = 0; i < 20; i++) sketch.increment(a);
    expect(sketch.frequency(a)).toBe(15);
  });

  it('halves every count after its sample of increments, so old popularity fades', () => {
    const sketch = new FrequencySketch(1024, 100);
    const old = hashKey('old');
    for (let i = 0; i < 12; i++) sketch.increment(old);
    for (let i = 0; i < 87; i++) sketch.increment(hashKey(`k${i}`));
    expect(sketch.frequency(old)).toBe(12);
    sketch.increment(hashKey('k87'));
    expect(sketch.frequency(old)).toBe(6);
  });

  it('rarely overestimates: 1000 keys counted once each, few read above 1', () => {
    const sketch = new FrequencySketch(1000);
    for (let i = 0; i < 1000; i++) sketch.increment(hashKey(`task:${i}`));
    const over = Array.from({ length: 1000 }, (_, i) => sketch.frequency(hashKey(`task:${i}`))).filter((f) => f > 1).length;
    expect(over).toBeLessThan(20);
  });
});
