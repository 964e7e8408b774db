import { describe, expect, it, vi } from 'vitest';
import { CacheConfigError } from '../errors.js';
import { SharedPromptCache } from '../shared-prompt-cache.js';

describe('getMetrics', () => {
  it('reports a hit rate of 0 with no requests', () => {
    expect(new SharedPromptCache().getMetrics()).toMatchObject({ hits: 0, misses: 0, hitRate: 0, missRate: 0 });
  });

  it('counts hits, misses and rates overall and by namespace', async () => {
    const cache = new SharedPromptCache();
    await cache.set('task_prompt:a', 'x');
    await cache.set('agent_profile:a', 'y');
    await cache.get('task_prompt:a');
    await cache.get('task_prompt:a');
    await cache.get('task_prompt:b');
    await cache.get('agent_profile:zzz');
    await cache.get('loose');
    const metrics = cache.getMetrics();
    expect(metrics).toMatchObject({ hits: 2, misses: 3, hitRate: 0.4, missRate: 0.6, sets: 2, entryCount: 2 });
    expect(metrics.namespaces.task_prompt).toMatchObject({ hits: 2, misses: 1, entryCount: 1 });
    expect(metrics.namespaces.task_prompt!.hitRate).toBeCloseTo(2 / 3);
    expect(metrics.namespaces.agent_profile).toMatchObject({ hits: 0, misses: 1, entryCount: 1 });
    expect(metrics.namespaces['(none)']).toMatchObject({ misses: 1, entryCount: 0 });
    const nsBytes = Object.values(metrics.namespaces).reduce((sum, ns) => sum + ns.sizeBytes, 0);
    expect(nsBytes).toBe(metrics.sizeBytes);
  });

  it('reports memory usage and pressure above 80%', () => {
    const cache = new SharedPromptCache({ maxMemoryMb: 0.1 }); // 104 857 bytes
    cache.setSync('a', 'x'.repeat(50_000));
    expect(cache.getMetrics()).toMatchObject({ memoryPressure: false, maxMemoryMb: 0.1, maxEntries: 1000 });
    cache.setSync('b', 'x'.repeat(40_000));
    const metrics = cache.getMetrics();
    expect(metrics.memoryUsagePercent).toBeGreaterThan(80);
    expect(metrics.memoryPressure).toBe(true);
    expect(metrics.sizeMb).toBeCloseTo(metrics.sizeBytes / 1024 / 1024);
  });

  it('counts nothing when metrics are disabled', async () => {
    const cache = new SharedPromptCache({ enableMetrics: false });
    await cache.set('a', 1);
    await cache.get('a');
    await cache.get('b');
    expect(cache.getMetrics()).toMatchObject({ hits: 0, misses: 0, sets: 0, entryCount: 1 });
  });

  it('keeps the hits of entries that were overwritten, deleted, evicted or expired, and counts each hit once', () => {
    vi.useFakeTimers();
    const cache = new SharedPromptCache({ maxEntries: 2 });
    const read = (key: string, times: number) => {
      for (let i = 0; i < times; i++) expect(cache.getSync(key)).toBeDefined();
    };
    cache.setSync('ns:a', 1);
    read('ns:a', 3);
    cache.setSync('ns:a', 2); // overwrite
    read('ns:a', 1);
    cache.setSync('ns:b', 1);
    read('ns:b', 2);
    expect(cache.getMetrics()).toMatchObject({ hits: 6 });
    cache.setSync('ns:b', 2, { ttl: 1000 });
    read('ns:b', 1);
    vi.advanceTimersByTime(2000);
    expect(cache.getSync('ns:b')).toBeUndefined(); // expired
    cache.setSync('other:c', 1);
    read('other:c', 2);
    cache.setSync('other:d', 1); // evicts ns:a
    expect(cache.getSync('ns:a')).toBeUndefined();
    const metrics = cache.getMetrics();
    vi.useRealTimers();
    expect(metrics).toMatchObject({ hits: 9, misses: 2, evictions: 1, expiredRemovals: 1 });
    expect(metrics.namespaces.ns).toMatchObject({ hits: 7, misses: 2 });
    expect(metrics.namespaces.other).toMatchObject({ hits: 2 });
    expect(cache.getMetrics()).toMatchObject({ hits: 9 }); // read twice, counted once
  });

  it('counts the hits of entries W-TinyLFU turns out', () => {
    const cache = new SharedPromptCache({ maxEntries: 100, eviction: 'tinylfu' });
    for (let i = 0; i < 1000; i++) {
      cache.setSync(`ns:${i}`, i);
      expect(cache.getSync(`ns:${i}`)).toBe(i);
      expect(cache.getSync(`ns:${i}`)).toBe(i);
    }
    const metrics = cache.getMetrics();
    expect(metrics.evictions).toBeGreaterThanOrEqual(900);
    expect(metrics).toMatchObject({ hits: 2000, misses: 0 });
    expect(metrics.namespaces.ns).toMatchObject({ hits: 2000 });
  });

  it('reads correctly with a clock at the epoch (0 is also the coarse clock\'s "read me again")', () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const cache = new SharedPromptCache();
      cache.setSync('ns:a', 'v', { ttl: 1000 });
      expect(cache.getSync('ns:a')).toBe('v');
      expect(cache.getSync('ns:a')).toBe('v');
      vi.advanceTimersByTime(1500);
      expect(cache.getSync('ns:a')).toBeUndefined();
      expect(cache.getMetrics()).toMatchObject({ hits: 2, misses: 1 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('resetMetrics forgets hits taken before it, not the entries’ access counts', () => {
    const cache = new SharedPromptCache();
    cache.setSync('ns:a', 1);
    cache.getSync('ns:a');
    cache.getSync('ns:a');
    cache.resetMetrics();
    cache.getSync('ns:a');
    expect(cache.getMetrics()).toMatchObject({ hits: 1 });
    expect(cache.getMetrics().namespaces.ns).toMatchObject({ hits: 1 });
    expect(cache.getCacheInfo().entries[0]).toMatchObject({ key: 'ns:a', accessCount: 3 });
  });

  it('times the first L1 read of each millisecond: a burst adds one sample, reads a few ms apart one each', async () => {
    const cache = new SharedPromptCache();
    cache.setSync('ns:a', 1);
    const l1Gets = () => cache.getMetrics().latency.find((h) => h.tier === 'l1' && h.operation === 'get')?.count ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 3));
    for (let i = 0; i < 1000; i++) cache.getSync('ns:a');
    expect(l1Gets()).toBe(1);
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 3));
      cache.getSync('ns:a');
    }
    expect(l1Gets()).toBe(6);
  });

  it('resetMetrics zeroes counters but keeps entries', async () => {
    const cache = new SharedPromptCache();
    await cache.set('a:1', 1);
    await cache.get('a:1');
    cache.resetMetrics();
    expect(cache.getMetrics()).toMatchObject({ hits: 0, sets: 0, entryCount: 1 });
  });
});

describe('healthCheck', () => {
  it('is unhealthy before start, healthy after, and never moves the counters', async () => {
    const cache = new SharedPromptCache();
    await cache.set('a', 1);
    const before = cache.getMetrics();
    expect(await cache.healthCheck()).toMatchObject({ status: 'unhealthy', checks: { started: false }, message: 'cache is not started' });
    await cache.start();
    const report = await cache.healthCheck();
    expect(report).toMatchObject({ status: 'healthy', checks: { started: true, l1: true, memory: true } });
    expect(new Date(report.timestamp).toISOString()).toBe(report.timestamp);
    expect(cache.getMetrics()).toEqual(before);
    await cache.stop();
  });

  it('is degraded above 90% of the byte budget', async () => {
    const cache = new SharedPromptCache({ maxMemoryMb: 0.1 });
    await cache.start();
    cache.setSync('a', 'x'.repeat(97_000));
    expect(await cache.healthCheck()).toMatchObject({ status: 'degraded', checks: { memory: false } });
    await cache.stop();
  });
});

describe('getCacheInfo', () => {
  it('lists entries with age, accesses, size, TTL and metadata, most recently used first', async () => {
    vi.useFakeTimers();
    const cache = new SharedPromptCache({ defaultTtl: '1h' });
    await cache.set('a', 'x', { metadata: { agent: 'qa' } });
    vi.advanceTimersByTime(500);
    await cache.set('b', 'y', { ttl: '1m' });
    await cache.get('a');
    await cache.get('a');
    const info = cache.getCacheInfo();
    vi.useRealTimers();
    expect(info.totalEntries).toBe(2);
    expect(info.entries.map((e) => e.key)).toEqual(['a', 'b']);
    expect(info.entries[0]).toMatchObject({ ageMs: 500, accessCount: 2, ttlMs: 3_600_000, metadata: { agent: 'qa' } });
    expect(info.entries[1]).toMatchObject({ ageMs: 0, accessCount: 0, ttlMs: 60_000, metadata: {} });
    expect(info.totalSizeBytes).toBe(info.entries[0]!.sizeBytes + info.entries[1]!.sizeBytes);
  });
});

describe('evictOldest and handleMemoryPressure', () => {
  it('evictOldest removes the least recently used entries and counts evictions', async () => {
    const cache = new SharedPromptCache();
    for (const key of ['a', 'b', 'c', 'd']) await cache.set(key, key);
    await cache.get('a');
    expect(cache.evictOldest(2)).toBe(2);
    expect(await cache.mget(['a', 'b', 'c', 'd'])).toEqual(['a', undefined, undefined, 'd']);
    expect(cache.evictOldest(10)).toBe(2);
    expect(cache.getMetrics()).toMatchObject({ evictions: 4, entryCount: 0 });
    expect(() => cache.evictOldest(-1)).toThrow(CacheConfigError);
  });

  it('sheds to 75% of the held bytes on warning and 25% on critical, expired entries first', () => {
    vi.useFakeTimers();
    const cache = new SharedPromptCache();
    cache.setSync('expired', 'x'.repeat(1000), { ttl: 10 });
    for (let i = 0; i < 99; i++) cache.setSync(`k${i}`, 'x'.repeat(1000));
    vi.advanceTimersByTime(20);
    const bytes = cache.getMetrics().sizeBytes;
    const warning = cache.handleMemoryPressure('warning');
    vi.useRealTimers();
    expect(warning.entriesBefore).toBe(100);
    expect(warning.entriesAfter).toBe(100 - warning.entriesRemoved);
    expect(cache.getMetrics().sizeBytes).toBeLessThanOrEqual(bytes * 0.75);
    expect(warning.bytesFreed).toBe(bytes - cache.getMetrics().sizeBytes);
    expect(cache.getMetrics().expiredRemovals).toBe(1);
    expect(cache.getSync('k98')).toBeDefined();

    const held = cache.getMetrics().sizeBytes;
    cache.handleMemoryPressure('critical');
    expect(cache.getMetrics().sizeBytes).toBeLessThanOrEqual(held * 0.25);
    expect(() => cache.handleMemoryPressure('panic' as never)).toThrow(CacheConfigError);
  });
});
