import { afterEach, describe, expect, it, vi } from 'vitest';
import { CacheConfigError, CacheSerializationError } from '../errors.js';
import type { Logger } from '@pm/service-manager/contract';
import { SharedPromptCache } from '../shared-prompt-cache.js';

afterEach(() => {
  vi.useRealTimers();
});

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('getOrCompute', () => {
  it('computes once on a miss, then serves the cached value', async () => {
    const cache = new SharedPromptCache();
    const compute = vi.fn(() => 'built');
    expect(await cache.getOrCompute('k', compute)).toBe('built');
    expect(await cache.getOrCompute('k', compute)).toBe('built');
    expect(compute).toHaveBeenCalledTimes(1);
    expect(cache.getMetrics()).toMatchObject({ hits: 1, misses: 1, sets: 1 });
  });

  it('shares one compute among concurrent callers (single-flight)', async () => {
    const cache = new SharedPromptCache();
    const gate = deferred<string>();
    const compute = vi.fn(() => gate.promise);
    const callers = Array.from({ length: 100 }, () => cache.getOrCompute('k', compute));
    gate.resolve('once');
    expect(new Set(await Promise.all(callers))).toEqual(new Set(['once']));
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('gives 100 concurrent waiters the same error when compute rejects, caches nothing, and computes again next time', async () => {
    const cache = new SharedPromptCache();
    const gate = deferred<string>();
    const failure = new Error('model down');
    const compute = vi.fn(() => gate.promise);
    const callers = Array.from({ length: 100 }, () => cache.getOrCompute('k', compute).catch((e: unknown) => e));
    gate.reject(failure);
    const errors = await Promise.all(callers);
    expect(errors.every((e) => e === failure)).toBe(true);
    expect(compute).toHaveBeenCalledTimes(1);
    expect(await cache.has('k')).toBe(false);
    expect(await cache.getOrCompute('k', () => 'recovered')).toBe('recovered');
  });

  it('treats a synchronous throw like a rejection and does not wedge the key', async () => {
    const cache = new SharedPromptCache();
    await expect(
      cache.getOrCompute('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(await cache.getOrCompute('k', () => 'ok')).toBe('ok');
  });

  it('rejects a computed undefined (and an uncacheable value) with CacheSerializationError, caching nothing', async () => {
    const cache = new SharedPromptCache();
    await expect(cache.getOrCompute('k', () => undefined)).rejects.toBeInstanceOf(CacheSerializationError);
    await expect(cache.getOrCompute('k', () => ({ f: () => 1 }))).rejects.toBeInstanceOf(CacheSerializationError);
    expect(await cache.has('k')).toBe(false);
  });

  it('validates its arguments', async () => {
    const cache = new SharedPromptCache();
    await expect(cache.getOrCompute('k', 'nope' as never)).rejects.toThrow(/compute function/);
    await expect(cache.getOrCompute('k', () => 1, { ttl: -1 })).rejects.toBeInstanceOf(CacheConfigError);
    await expect(cache.getOrCompute('k', () => 1, { grace: 'later' as never })).rejects.toBeInstanceOf(CacheConfigError);
  });

  it('does not cache a result whose key was deleted or invalidated while it was computing', async () => {
    const cache = new SharedPromptCache();
    const gate = deferred<string>();
    const pending = cache.getOrCompute('profile:eng', () => gate.promise);
    await cache.invalidate('profile:*');
    gate.resolve('built from old files');
    expect(await pending).toBe('built from old files');
    expect(await cache.has('profile:eng')).toBe(false);

    const gate2 = deferred<string>();
    const pending2 = cache.getOrCompute('profile:eng', () => gate2.promise);
    await cache.delete('profile:eng');
    gate2.resolve('stale');
    await pending2;
    expect(await cache.has('profile:eng')).toBe(false);
  });

  it('does not put a result over a value written while it was computing', async () => {
    const cache = new SharedPromptCache();
    const gate = deferred<string>();
    const pending = cache.getOrCompute('profile:eng', () => gate.promise);
    cache.setSync('profile:eng', 'written meanwhile');
    gate.resolve('computed from older inputs');
    expect(await pending).toBe('computed from older inputs');
    expect(cache.getSync('profile:eng')).toBe('written meanwhile');

    const gate2 = deferred<string>();
    const pending2 = cache.getOrCompute('profile:qa', () => gate2.promise);
    await cache.set('profile:qa', 'set meanwhile');
    gate2.resolve('computed');
    await pending2;
    expect(cache.getSync('profile:qa')).toBe('set meanwhile');
  });

  it('serves a value that expired less than grace ago when compute fails, and logs the failure', async () => {
    vi.useFakeTimers();
    const warnings: unknown[] = [];
    const logger: Logger = { debug() {}, info() {}, error() {}, warn: (obj) => warnings.push(obj) };
    const cache = new SharedPromptCache({ logger });
    await cache.getOrCompute('k', () => 'v1', { ttl: 1000, grace: 5000 });
    vi.advanceTimersByTime(2000);
    expect(cache.getSync('k')).toBeUndefined();
    const failing = () => Promise.reject(new Error('upstream down'));
    expect(await cache.getOrCompute('k', failing, { ttl: 1000, grace: 5000 })).toBe('v1');
    expect(warnings).toHaveLength(1);
    vi.advanceTimersByTime(5000);
    await expect(cache.getOrCompute('k', failing, { ttl: 1000, grace: 5000 })).rejects.toThrow('upstream down');
  });

  it('does not serve stale values without grace', async () => {
    vi.useFakeTimers();
    const cache = new SharedPromptCache();
    await cache.getOrCompute('k', () => 'v1', { ttl: 1000 });
    vi.advanceTimersByTime(1500);
    await expect(cache.getOrCompute('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  });
});

describe('getOrCompute with tags derived from the value', () => {
  it('tags the entry with what the computed value says it was built from', async () => {
    const cache = new SharedPromptCache();
    const built = await cache.getOrCompute('task_prompt:x', () => ({ text: 'prompt', sources: ['/a.md', '/b.md'] }), {
      tags: (value) => value.sources.map((file) => `file:${file}`),
    });
    expect(built.text).toBe('prompt');
    expect(await cache.invalidateTags(['file:/b.md'])).toBe(1);
    expect(cache.getSync('task_prompt:x')).toBeUndefined();
  });

  it('does not cache a result whose compute overlapped any tag invalidation (its tags were not known yet)', async () => {
    const cache = new SharedPromptCache();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const pending = cache.getOrCompute(
      'k',
      async () => {
        await gate;
        return { sources: ['/a.md'] };
      },
      { tags: (value) => value.sources },
    );
    await cache.invalidateTags(['/a.md']);
    release();
    await pending;
    expect(cache.getSync('k')).toBeUndefined();
  });
});
