import { describe, expect, it, vi } from 'vitest';
import { CacheKeyError } from '../errors.js';
import type { Logger } from '@pm/service-manager/contract';
import { SharedPromptCache } from '../shared-prompt-cache.js';
import type { InvalidationEvent } from '../types.js';

function filled(keys: string[]): SharedPromptCache {
  const cache = new SharedPromptCache({ maxEntries: 10_000 });
  for (const key of keys) cache.setSync(key, key);
  return cache;
}

async function remaining(cache: SharedPromptCache, keys: string[]): Promise<string[]> {
  const present: string[] = [];
  for (const key of keys) if (await cache.has(key)) present.push(key);
  return present;
}

describe('invalidate', () => {
  const keys = [
    'agent_profile:engineer:/home/a/project',
    'agent_profile:qa:/home/a/project',
    'task_prompt:engineer:abc',
    'task_prompt:qa:def',
    'delegation_prompt:engineer:1',
    'plain',
    'Task_prompt:upper:1',
  ];

  it("matches every key with '*', dot-only keys included (keys are not paths)", async () => {
    const odd = ['.', '..', '...', './x', 'a/../b'];
    const cache = filled(odd);
    expect(await cache.invalidate('*')).toBe(odd.length);
    expect(await remaining(cache, odd)).toEqual([]);
  });

  it('removes keys matching a namespace pattern and returns how many', async () => {
    const cache = filled(keys);
    expect(await cache.invalidate('task_prompt:*')).toBe(2);
    expect(await remaining(cache, keys)).toEqual(keys.filter((k) => !k.startsWith('task_prompt:')));
    expect(cache.getMetrics().invalidations).toBe(2);
  });

  it('lets * cross ":" and "/"', async () => {
    const cache = filled(keys);
    expect(await cache.invalidate('*engineer*')).toBe(3);
    expect(await cache.invalidate('agent_profile:*/project')).toBe(1);
  });

  it('matches whole keys, case-sensitively', async () => {
    const cache = filled(keys);
    expect(await cache.invalidate('task_prompt')).toBe(0);
    expect(await cache.invalidate('engineer*')).toBe(0);
    expect(await cache.invalidate('task_prompt:*')).toBe(2);
    expect(await cache.has('Task_prompt:upper:1')).toBe(true);
  });

  it('supports ? and [abc] classes', async () => {
    const cache = filled(['v:1', 'v:2', 'v:10', 'w:a', 'w:b', 'w:c']);
    expect(await cache.invalidate('v:?')).toBe(2);
    expect(await cache.invalidate('w:[ab]')).toBe(2);
    expect(await cache.has('w:c')).toBe(true);
  });

  it('removes exactly one key for a pattern without glob characters', async () => {
    const cache = filled(keys);
    expect(await cache.invalidate('plain')).toBe(1);
    expect(await cache.invalidate('plain')).toBe(0);
  });

  it('finds namespace keys whatever the namespace count, the overflow bucket included', async () => {
    const many = Array.from({ length: 300 }, (_, i) => `ns${i}:key`);
    const cache = filled(many);
    expect(await cache.invalidate('ns299:*')).toBe(1);
    expect(await cache.invalidate('ns0:*')).toBe(1);
    expect(await cache.invalidate('ns2*:*')).toBe(110); // ns2, ns20-ns29, ns200-ns298
    expect(cache.getMetrics().entryCount).toBe(188);
  });

  it('treats braces, ! and extglobs literally, as fnmatch does', async () => {
    const cache = filled(['a:{x,y}', 'a:x', '!a:b', 'a:+(x)']);
    expect(await cache.invalidate('a:{x,y}')).toBe(1);
    expect(await cache.has('a:x')).toBe(true);
    expect(await cache.invalidate('!a:*')).toBe(1);
    expect(await cache.invalidate('a:+(x)')).toBe(1);
  });

  it('rejects empty or non-string patterns', async () => {
    const cache = filled(keys);
    await expect(cache.invalidate('')).rejects.toBeInstanceOf(CacheKeyError);
    await expect(cache.invalidate(7 as never)).rejects.toBeInstanceOf(CacheKeyError);
    expect(() => cache.onInvalidate('', () => undefined)).toThrow(CacheKeyError);
  });
});

describe('onInvalidate', () => {
  it('fires when the invalidation pattern matches the callback pattern, with the removed keys', async () => {
    const cache = filled(['agent_profile:engineer:p', 'agent_profile:qa:p']);
    const events: InvalidationEvent[] = [];
    cache.onInvalidate('agent_profile:engineer:*', (e) => {
      events.push(e);
    });
    await cache.invalidate('agent_profile:*');
    expect(events).toEqual([
      {
        pattern: 'agent_profile:*',
        keys: expect.arrayContaining(['agent_profile:engineer:p', 'agent_profile:qa:p']) as string[],
        count: 2,
        source: 'local',
      },
    ]);
  });

  it('fires when a removed key matches the callback pattern', async () => {
    const cache = filled(['agent_profile:engineer:p']);
    const callback = vi.fn();
    cache.onInvalidate('agent_profile:*', callback);
    await cache.invalidate('agent_profile:engineer:*');
    expect(callback).toHaveBeenCalledOnce();
  });

  it('does not fire for unrelated invalidations, nor after unsubscribing', async () => {
    const cache = filled(['task_prompt:a', 'agent_profile:a']);
    const callback = vi.fn();
    const unsubscribe = cache.onInvalidate('agent_profile:*', callback);
    await cache.invalidate('task_prompt:*');
    expect(callback).not.toHaveBeenCalled();
    unsubscribe();
    await cache.invalidate('agent_profile:*');
    expect(callback).not.toHaveBeenCalled();
  });

  it('logs and counts a throwing (or rejecting) callback, never rethrows, and still runs the others', async () => {
    const errors: unknown[] = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (obj) => errors.push(obj) };
    const cache = new SharedPromptCache({ logger });
    cache.setSync('a:1', 1);
    const after = vi.fn();
    cache.onInvalidate('a:*', () => {
      throw new Error('boom');
    });
    cache.onInvalidate('a:*', () => Promise.reject(new Error('async boom')));
    cache.onInvalidate('a:*', after);
    await expect(cache.invalidate('a:*')).resolves.toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(after).toHaveBeenCalledOnce();
    expect(cache.getMetrics().callbackErrors).toBe(2);
    expect(errors).toHaveLength(2);
  });
});
