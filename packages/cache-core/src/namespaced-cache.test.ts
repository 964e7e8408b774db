import { describe, expect, it, vi } from 'vitest';
import { CacheConfigError, CacheKeyError } from './errors.js';
import { SharedPromptCache } from './shared-prompt-cache.js';

describe('namespace()', () => {
  it('prefixes keys with name: and shares the parent cache', async () => {
    const cache = new SharedPromptCache();
    const prompts = cache.namespace('task_prompt');
    await prompts.set('a', 'A');
    prompts.setSync('b', 'B');
    expect(cache.getSync('task_prompt:a')).toBe('A');
    expect(await prompts.get('b')).toBe('B');
    expect(prompts.getSync('a')).toBe('A');
    expect(await prompts.has('a')).toBe(true);
    expect(await prompts.mget(['a', 'x'])).toEqual(['A', undefined]);
    await prompts.mset([{ key: 'c', value: 'C' }]);
    expect(await prompts.getOrCompute('c', () => 'never')).toBe('C');
    await prompts.setPrompt('p', 'text', { metadata: { v: 1 } });
    expect(await prompts.getPrompt('p')).toEqual({ prompt: 'text', metadata: { v: 1 } });
    expect(await prompts.delete('a')).toBe(true);
    expect(cache.getMetrics().namespaces.task_prompt!.entryCount).toBe(3);
  });

  it("uses the namespace's TTL", async () => {
    vi.useFakeTimers();
    const cache = new SharedPromptCache({ defaultTtl: '1h', namespaces: { quick: { ttl: '1s' } } });
    await cache.namespace('quick').set('a', 1);
    vi.advanceTimersByTime(1001);
    expect(await cache.namespace('quick').get('a')).toBeUndefined();
    vi.useRealTimers();
  });

  it('invalidates and clears only its own keys, with patterns relative to the prefix', async () => {
    const cache = new SharedPromptCache();
    cache.setSync('agent_profile:engineer', 1);
    cache.setSync('agent_profile:qa', 1);
    cache.setSync('agent_profile_x:engineer', 1);
    cache.setSync('other:engineer', 1);
    const profiles = cache.namespace('agent_profile');
    const seen = vi.fn();
    profiles.onInvalidate('eng*', seen);
    expect(await profiles.invalidate('eng*')).toBe(1);
    expect(seen).toHaveBeenCalledOnce();
    expect(await profiles.clear()).toBe(1);
    expect(cache.getMetrics().entryCount).toBe(2);
  });

  it('escapes glob characters in its name', async () => {
    const cache = new SharedPromptCache();
    cache.setSync('a*b:1', 1);
    cache.setSync('aXb:1', 1);
    expect(await cache.namespace('a*b').clear()).toBe(1);
    expect(cache.getSync('aXb:1')).toBe(1);
  });

  it('rejects bad names, keys and patterns', async () => {
    const cache = new SharedPromptCache();
    expect(() => cache.namespace('')).toThrow(CacheConfigError);
    expect(() => cache.namespace('a:b')).toThrow(CacheConfigError);
    const ns = cache.namespace('n');
    expect(() => ns.getSync('')).toThrow(CacheKeyError);
    expect(() => {
      ns.setSync(undefined as never, 1);
    }).toThrow(CacheKeyError);
    await expect(ns.invalidate('')).rejects.toBeInstanceOf(CacheKeyError);
  });
});
