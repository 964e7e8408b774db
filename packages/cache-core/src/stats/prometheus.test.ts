import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { exportCacheMetrics } from './prometheus.js';
import { SharedPromptCache } from '../shared-prompt-cache.js';

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('exportCacheMetrics', () => {
  it('exposes hits, misses, hit ratio, entries, bytes and evictions by namespace', async () => {
    const cache = new SharedPromptCache({ maxEntries: 2 });
    const { registry } = exportCacheMetrics(cache);
    await cache.set('task_prompt:a', 'x');
    await cache.get('task_prompt:a');
    await cache.get('task_prompt:b');
    await cache.set('agent_profile:a', 'y');
    await cache.set('agent_profile:b', 'z'); // evicts task_prompt:a
    const text = await registry.metrics();
    const tp = 'cache="shared_prompt_cache",namespace="task_prompt"';
    expect(sample(text, 'pm_cache_hits_total', tp)).toBe(1);
    expect(sample(text, 'pm_cache_misses_total', tp)).toBe(1);
    expect(sample(text, 'pm_cache_evictions_total', tp)).toBe(1);
    expect(sample(text, 'pm_cache_entries', 'cache="shared_prompt_cache",namespace="agent_profile"')).toBe(2);
    expect(sample(text, 'pm_cache_size_bytes', 'cache="shared_prompt_cache",namespace="agent_profile"')).toBe(cache.getMetrics().sizeBytes);
    expect(sample(text, 'pm_cache_hit_ratio', 'cache="shared_prompt_cache"')).toBe(0.5);
    expect(sample(text, 'pm_cache_sets_total', 'cache="shared_prompt_cache"')).toBe(3);
    expect(text).toContain('# TYPE pm_cache_hits_total counter');
    expect(text).toContain('# TYPE pm_cache_entries gauge');
  });

  it('reads fresh values at every scrape and drops namespaces that are gone', async () => {
    const cache = new SharedPromptCache();
    const { registry } = exportCacheMetrics(cache, { prefix: 'app_cache_', cacheName: 'prompts' });
    await cache.set('a:1', 1);
    expect(sample(await registry.metrics(), 'app_cache_entries', 'cache="prompts",namespace="a"')).toBe(1);
    await cache.clear();
    expect(sample(await registry.metrics(), 'app_cache_entries', 'cache="prompts",namespace="a"')).toBeUndefined();
  });

  it('registers into a given registry and unregisters cleanly', async () => {
    const registry = new Registry();
    const exporter = exportCacheMetrics(new SharedPromptCache(), { registry });
    expect(() => exportCacheMetrics(new SharedPromptCache(), { registry })).toThrow(/already been registered/);
    exporter.unregister();
    expect(await registry.metrics()).toBe('\n');
    expect(() => exportCacheMetrics(new SharedPromptCache(), { registry })).not.toThrow();
  });
});
