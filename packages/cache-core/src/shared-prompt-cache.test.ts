import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CacheConfigError, CacheEntryTooLargeError, CacheKeyError, CacheSerializationError } from './errors.js';
import { SharedPromptCache } from './shared-prompt-cache.js';

const caches: SharedPromptCache[] = [];
function newCache(options?: ConstructorParameters<typeof SharedPromptCache>[0]): SharedPromptCache {
  const cache = new SharedPromptCache(options);
  caches.push(cache);
  return cache;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(caches.splice(0).map((cache) => cache.stop()));
  await SharedPromptCache.resetInstance();
});

describe('keys and values', () => {
  it('returns what was set, sync and async', async () => {
    const cache = newCache();
    cache.setSync('a', { n: 1 });
    await cache.set('b', 'two');
    expect(cache.getSync('a')).toEqual({ n: 1 });
    expect(await cache.get('b')).toBe('two');
    expect(await cache.get('missing')).toBeUndefined();
  });

  it('treats null as a value and a hit', async () => {
    const cache = newCache();
    await cache.set('nothing', null);
    expect(await cache.get('nothing')).toBeNull();
    expect(await cache.has('nothing')).toBe(true);
    expect(cache.getMetrics()).toMatchObject({ hits: 1, misses: 0 });
  });

  it('rejects empty and non-string keys with CacheKeyError', async () => {
    const cache = newCache();
    expect(() => cache.getSync('')).toThrow(CacheKeyError);
    expect(() => {
      cache.setSync(42 as unknown as string, 'x');
    }).toThrow(CacheKeyError);
    await expect(cache.get('')).rejects.toThrow(/non-empty strings/);
    await expect(cache.delete(undefined as unknown as string)).rejects.toBeInstanceOf(CacheKeyError);
    await expect(cache.has('')).rejects.toBeInstanceOf(CacheKeyError);
  });

  it('rejects keys with an unpaired surrogate (they have no UTF-8 form), and accepts paired ones', () => {
    const cache = newCache();
    expect(() => {
      cache.setSync('a\ud800', 1);
    }).toThrow(/unpaired surrogate at character 1/);
    cache.setSync('emoji:\ud83d\ude00', 1);
    expect(cache.getSync('emoji:\ud83d\ude00')).toBe(1);
  });

  it('quotes at most the first 200 characters of a key in an error message', () => {
    const cache = newCache();
    const key = `k:${'x'.repeat(1_000_000)}`;
    const error = (() => {
      try {
        cache.setSync(key, () => undefined);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect(error!.message.length).toBeLessThan(400);
    expect(error!.message).toContain('(1000002 characters)');
  });

  it('rejects undefined, functions, symbols, promises and circular values, naming the key and leaving the cache unchanged', async () => {
    const cache = newCache();
    await cache.set('k', 'original');
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    for (const bad of [undefined, () => 1, { nested: { fn: () => 1 } }, Symbol('s'), [1, Symbol('s')], Promise.resolve(1), circular]) {
      const error = await cache.set('k', bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheSerializationError);
      expect((error as CacheSerializationError).key).toBe('k');
      expect((error as Error).message).toMatch(/^\[cache-core\] cannot cache key "k"/);
    }
    expect(await cache.get('k')).toBe('original');
    expect(cache.getMetrics()).toMatchObject({ sets: 1, entryCount: 1 });
  });

  it('names where in the value the problem is', () => {
    const cache = newCache();
    expect(() => {
      cache.setSync('k', { profile: { tools: [1, () => 2] } });
    }).toThrow(/functions cannot be serialized \(at \$\.profile\.tools\[1\]\)/);
  });

  it('accepts shared (non-circular) references, Dates, Maps, Sets, BigInts and Buffers', () => {
    const cache = newCache();
    const shared = { x: 1 };
    const value = {
      a: shared,
      b: shared,
      when: new Date(0),
      m: new Map([['k', 1]]),
      s: new Set([1]),
      big: 10n ** 30n,
      buf: Buffer.from('hi'),
    };
    cache.setSync('rich', value);
    expect(cache.getSync('rich')).toBe(value);
  });

  it('has() counts neither hit nor miss and does not refresh recency', async () => {
    const cache = newCache({ maxEntries: 2 });
    await cache.set('old', 1);
    await cache.set('new', 2);
    expect(await cache.has('old')).toBe(true);
    expect(await cache.has('absent')).toBe(false);
    await cache.set('newest', 3);
    expect(await cache.has('old')).toBe(false);
    expect(cache.getMetrics()).toMatchObject({ hits: 0, misses: 0 });
  });

  it('counts deletes only for keys that existed', async () => {
    const cache = newCache();
    await cache.set('a', 1);
    expect(await cache.delete('a')).toBe(true);
    expect(await cache.delete('a')).toBe(false);
    expect(await cache.delete('never')).toBe(false);
    expect(cache.getMetrics().deletes).toBe(1);
  });

  it('clear() empties L1 and its accounting', async () => {
    const cache = newCache();
    await cache.mset([
      { key: 'a:1', value: 1 },
      { key: 'b:1', value: 'x'.repeat(100) },
    ]);
    await cache.clear();
    expect(cache.getMetrics()).toMatchObject({ entryCount: 0, sizeBytes: 0 });
    expect(cache.getMetrics().namespaces).toEqual({});
    expect(await cache.get('a:1')).toBeUndefined();
  });
});

describe('TTL', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it('uses the per-call TTL, else the namespace TTL, else the default', () => {
    const cache = newCache({ defaultTtl: '10m', namespaces: { short: { ttl: '1m' } } });
    cache.setSync('short:a', 1);
    cache.setSync('short:b', 1, { ttl: '20m' });
    cache.setSync('other:a', 1);
    vi.advanceTimersByTime(61_000);
    expect(cache.getSync('short:a')).toBeUndefined();
    expect(cache.getSync('short:b')).toBe(1);
    expect(cache.getSync('other:a')).toBe(1);
    vi.advanceTimersByTime(10 * 60_000);
    expect(cache.getSync('short:b')).toBe(1);
    expect(cache.getSync('other:a')).toBeUndefined();
  });

  it('never returns an expired entry; reading it removes it, counting one miss and one expired removal', () => {
    const cache = newCache();
    cache.setSync('k', 'v', { ttl: 1000 });
    vi.advanceTimersByTime(1000);
    expect(cache.getSync('k')).toBeUndefined();
    expect(cache.getMetrics()).toMatchObject({ misses: 1, hits: 0, expiredRemovals: 1, entryCount: 0, sizeBytes: 0 });
  });

  it('expires entries on the real clock too, within its 1 ms read resolution', async () => {
    vi.useRealTimers();
    const cache = newCache();
    cache.setSync('k', 'v', { ttl: 20 });
    expect(cache.getSync('k')).toBe('v');
    await new Promise((resolve) => setTimeout(resolve, 25));
    expect(cache.getSync('k')).toBeUndefined();
  });

  it('has() is false for an expired entry', async () => {
    const cache = newCache();
    cache.setSync('k', 'v', { ttl: 10 });
    vi.advanceTimersByTime(10);
    expect(await cache.has('k')).toBe(false);
  });

  it('Infinity never expires', () => {
    const cache = newCache({ defaultTtl: Infinity });
    cache.setSync('k', 'v');
    vi.advanceTimersByTime(365 * 24 * 3_600_000);
    expect(cache.getSync('k')).toBe('v');
  });

  it.each([0, -1, Number.NaN, 'soon', '10 minutes', '', '-5s'])('rejects the TTL %s with CacheConfigError', (ttl) => {
    const cache = newCache();
    expect(() => {
      cache.setSync('k', 'v', { ttl: ttl as never });
    }).toThrow(CacheConfigError);
    expect(() => newCache({ defaultTtl: ttl as never })).toThrow(CacheConfigError);
    expect(cache.getMetrics().entryCount).toBe(0);
  });

  it('accepts ms, s, m, h and d units', () => {
    const cache = newCache();
    cache.setSync('ms', 1, { ttl: '500ms' });
    cache.setSync('d', 1, { ttl: '1d' });
    vi.advanceTimersByTime(501);
    expect(cache.getSync('ms')).toBeUndefined();
    vi.advanceTimersByTime(86_400_000 - 600);
    expect(cache.getSync('d')).toBe(1);
  });
});

describe('limits and eviction', () => {
  it('keeps entryCount <= maxEntries, evicting the least recently used', async () => {
    const cache = newCache({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) await cache.set(key, key);
    await cache.get('a');
    await cache.set('d', 'd');
    expect(await cache.has('b')).toBe(false);
    expect(await cache.has('a')).toBe(true);
    expect(cache.getMetrics()).toMatchObject({ entryCount: 3, evictions: 1 });
  });

  it('evicts the least recently used entry when the byte budget is full', async () => {
    const cache = newCache({ maxMemoryMb: 0.01, maxEntries: 1000 }); // 10 485 bytes
    const value = 'x'.repeat(3000);
    for (const key of ['a', 'b', 'c']) await cache.set(key, value);
    await cache.get('a');
    await cache.set('d', value);
    const metrics = cache.getMetrics();
    expect(metrics.sizeBytes).toBeLessThanOrEqual(0.01 * 1024 * 1024);
    expect(await cache.has('b')).toBe(false);
    expect(await cache.has('a')).toBe(true);
    expect(metrics.evictions).toBeGreaterThanOrEqual(1);
  });

  it('throws CacheEntryTooLargeError for an entry bigger than the budget and keeps the previous value', async () => {
    const cache = newCache({ maxMemoryMb: 0.01 });
    await cache.set('k', 'small');
    await cache.set('other', 'kept');
    await expect(cache.set('k', 'x'.repeat(20_000))).rejects.toBeInstanceOf(CacheEntryTooLargeError);
    expect(await cache.get('k')).toBe('small');
    expect(await cache.get('other')).toBe('kept');
  });

  it('accounts strings by UTF-8 bytes', () => {
    const cache = newCache();
    cache.setSync('ascii', 'a'.repeat(1000));
    cache.setSync('cjk_x', '字'.repeat(1000));
    const sizes = Object.fromEntries(cache.getCacheInfo().entries.map((e) => [e.key, e.sizeBytes]));
    expect(sizes.cjk_x! - sizes.ascii!).toBe(2000);
  });

  it('rejects invalid limits', () => {
    for (const options of [
      { maxEntries: 0 },
      { maxEntries: 1.5 },
      { maxEntries: -1 },
      { maxMemoryMb: 0 },
      { maxMemoryMb: Number.NaN },
      { maxMemoryMb: Infinity },
    ]) {
      expect(() => newCache(options)).toThrow(CacheConfigError);
    }
  });

  it('rejects unknown options, naming them', () => {
    expect(() => newCache({ max_size: 10 } as never)).toThrow(/unknown option "max_size"/);
  });
});

describe('lifecycle', () => {
  it('start and stop are idempotent', async () => {
    const cache = newCache();
    await cache.start();
    await cache.start();
    expect(cache.started).toBe(true);
    await cache.stop();
    await cache.stop();
    expect(cache.started).toBe(false);
  });

  it('purges expired entries on the cleanup timer, again after a stop/start cycle', async () => {
    vi.useFakeTimers();
    const cache = newCache({ cleanupInterval: '1s' });
    await cache.start();
    cache.setSync('a', 1, { ttl: 500 });
    vi.advanceTimersByTime(1000);
    expect(cache.getMetrics()).toMatchObject({ entryCount: 0, expiredRemovals: 1 });

    await cache.stop();
    cache.setSync('b', 1, { ttl: 500 });
    vi.advanceTimersByTime(5000);
    expect(cache.getMetrics().entryCount).toBe(1);

    await cache.start();
    vi.advanceTimersByTime(1000);
    expect(cache.getMetrics()).toMatchObject({ entryCount: 0, sizeBytes: 0, expiredRemovals: 2 });
    await cache.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps entryCount and sizeBytes equal to what L1 holds across start/stop/clear', async () => {
    const cache = newCache();
    await cache.start();
    await cache.set('a:1', 'x');
    await cache.stop();
    await cache.set('a:2', 'y');
    await cache.clear();
    await cache.start();
    await cache.set('a:3', 'z');
    const info = cache.getCacheInfo();
    expect(cache.getMetrics()).toMatchObject({ entryCount: 1, sizeBytes: info.totalSizeBytes });
    expect(info.entries.map((e) => e.key)).toEqual(['a:3']);
  });
});

describe('singleton', () => {
  it('getInstance returns one instance; the same options are accepted again', () => {
    const first = SharedPromptCache.getInstance({ maxEntries: 10 });
    expect(SharedPromptCache.getInstance()).toBe(first);
    expect(SharedPromptCache.getInstance({ maxEntries: 10 })).toBe(first);
  });

  it('throws CacheConfigError for different options', () => {
    SharedPromptCache.getInstance({ maxEntries: 10 });
    expect(() => SharedPromptCache.getInstance({ maxEntries: 20 })).toThrow(CacheConfigError);
  });

  it('resetInstance stops the old instance and lets a new one be made', async () => {
    const first = SharedPromptCache.getInstance({ maxEntries: 10 });
    await first.start();
    await SharedPromptCache.resetInstance();
    expect(first.started).toBe(false);
    const second = SharedPromptCache.getInstance({ maxEntries: 20 });
    expect(second).not.toBe(first);
  });
});

describe('prompts', () => {
  it('stores a prompt with metadata', async () => {
    const cache = newCache();
    await cache.setPrompt('p:1', 'You are an engineer.', { metadata: { agent: 'engineer' } });
    expect(await cache.getPrompt('p:1')).toEqual({ prompt: 'You are an engineer.', metadata: { agent: 'engineer' } });
    expect(await cache.getPrompt('p:none')).toBeUndefined();
  });

  it('rejects non-string prompts and reading a non-prompt value as a prompt', async () => {
    const cache = newCache();
    await expect(cache.setPrompt('p', 42 as unknown as string)).rejects.toBeInstanceOf(CacheSerializationError);
    await cache.set('v', 'plain');
    await expect(cache.getPrompt('v')).rejects.toThrow(/not stored with setPrompt/);
  });

  it('rejects metadata that is not a plain serializable object', async () => {
    const cache = newCache();
    await expect(cache.setPrompt('p', 'x', { metadata: [] as never })).rejects.toBeInstanceOf(CacheSerializationError);
    await expect(cache.setPrompt('p', 'x', { metadata: { f: () => 1 } })).rejects.toBeInstanceOf(CacheSerializationError);
  });
});
