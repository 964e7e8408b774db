import { describe, expect, it } from 'vitest';
import { CacheEntryTooLargeError, CacheSerializationError } from './errors.js';
import { SharedPromptCache } from './shared-prompt-cache.js';

describe('mget and mset', () => {
  it('reads many keys in order, counting each hit and miss', async () => {
    const cache = new SharedPromptCache();
    await cache.mset([
      { key: 'a', value: 1 },
      { key: 'b', value: null, ttl: '1m' },
    ]);
    expect(await cache.mget(['a', 'x', 'b'])).toEqual([1, undefined, null]);
    expect(cache.getMetrics()).toMatchObject({ hits: 2, misses: 1, sets: 2 });
  });

  it('writes nothing when any entry is invalid', async () => {
    const cache = new SharedPromptCache({ maxMemoryMb: 0.01 });
    await cache.set('a', 'old');
    await expect(
      cache.mset([
        { key: 'a', value: 'new' },
        { key: 'b', value: () => 1 },
      ]),
    ).rejects.toBeInstanceOf(CacheSerializationError);
    await expect(
      cache.mset([
        { key: 'a', value: 'new' },
        { key: 'c', value: 'x'.repeat(20_000) },
      ]),
    ).rejects.toBeInstanceOf(CacheEntryTooLargeError);
    await expect(
      cache.mset([
        { key: 'a', value: 'new' },
        { key: 'd', value: 1, ttl: 0 },
      ]),
    ).rejects.toThrow(/ttl/);
    expect(await cache.get('a')).toBe('old');
    expect(cache.getMetrics().entryCount).toBe(1);
  });

  it('rejects non-array input', async () => {
    const cache = new SharedPromptCache();
    await expect(cache.mget('a' as never)).rejects.toThrow(/array/);
    await expect(cache.mset({} as never)).rejects.toThrow(/array/);
    await expect(cache.mget(['a', ''])).rejects.toThrow(/non-empty/);
  });
});

describe('warm', () => {
  it('loads every item with bounded concurrency and reports progress', async () => {
    const cache = new SharedPromptCache();
    let running = 0;
    let peak = 0;
    const items = Array.from({ length: 20 }, (_, i) => ({
      key: `w:${i}`,
      load: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running--;
        return `value ${i}`;
      },
    }));
    const progress: [number, number][] = [];
    const result = await cache.warm(items, { concurrency: 3, onProgress: (done, total) => progress.push([done, total]) });
    expect(result).toEqual({ loaded: 20, failed: 0 });
    expect(peak).toBe(3);
    expect(progress).toHaveLength(20);
    expect(progress.at(-1)).toEqual([20, 20]);
    expect(cache.getSync('w:7')).toBe('value 7');
  });

  it('counts and logs failing loads and keeps going', async () => {
    const warned: unknown[] = [];
    const cache = new SharedPromptCache({ logger: { debug() {}, info() {}, error() {}, warn: (o) => warned.push(o) } });
    const result = await cache.warm([
      { key: 'ok', load: () => 'fine' },
      {
        key: 'bad',
        load: () => {
          throw new Error('disk');
        },
      },
      { key: 'rejects', load: () => Promise.reject(new Error('net')) },
      { key: 'undef', load: () => undefined },
      { key: 'noload' } as never,
      { key: 'ok2', load: () => 'fine', ttl: '1m' },
    ]);
    expect(result).toEqual({ loaded: 2, failed: 4 });
    expect(warned).toHaveLength(4);
    expect(await cache.mget(['ok', 'ok2', 'bad'])).toEqual(['fine', 'fine', undefined]);
  });

  it('accepts any iterable and survives a throwing onProgress', async () => {
    const cache = new SharedPromptCache();
    function* items() {
      yield { key: 'g:1', load: () => 1 };
      yield { key: 'g:2', load: () => 2 };
    }
    const result = await cache.warm(items(), {
      onProgress: () => {
        throw new Error('ui');
      },
    });
    expect(result).toEqual({ loaded: 2, failed: 0 });
  });

  it('rejects a bad concurrency', async () => {
    await expect(new SharedPromptCache().warm([], { concurrency: 0 })).rejects.toThrow(/concurrency/);
  });
});
