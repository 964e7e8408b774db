import { describe, expect, it } from 'vitest';
import { projectAnthropicCaching } from './cost.js';
import { anthropicMinCacheableTokens } from './providers/models.js';
import { promptOf } from './fixtures/prompts.js';
import { countTokens } from '@pm/prompt-builder';

describe('projectAnthropicCaching', () => {
  it('prices the first call of a prefix as a cache write, the next ones as reads, the tasks in full', () => {
    const calls = ['a', 'b', 'c', 'd'].map((task) => promptOf('engineer', `Task ${task}`, 2000));
    const p = calls[0]!.prefixTokens;
    const s = countTokens(calls[0]!.suffix);
    const projection = projectAnthropicCaching(calls, 'claude-sonnet-4-6');
    expect(projection.prices.input).toBe(3);
    expect(projection.prices.cacheWrite).toBeCloseTo(3.75, 9);
    expect(projection.prices.cacheRead).toBeCloseTo(0.3, 9);
    expect(projection.inputTokens).toBe(4 * (p + s));
    expect(projection.cacheableShare).toBeCloseTo(p / (p + s), 5);
    const uncached = (4 * (p + s) * 3) / 1e6;
    const cached = (p * 3.75 + 3 * p * 0.3 + 4 * s * 3) / 1e6;
    expect(projection.uncachedCost).toBeCloseTo(uncached, 9);
    expect(projection.cachedCost).toBeCloseTo(cached, 9);
    expect(projection.reduction).toBeCloseTo(1 - cached / uncached, 9);
  });

  it('counts a prefix below the model minimum at full price, and one call of a prefix as dearer than none', () => {
    const short = projectAnthropicCaching([promptOf('qa', 'x', 300)]);
    expect(short).toMatchObject({ cacheableTokens: 0, reduction: 0 });
    expect(projectAnthropicCaching([promptOf('qa', 'x', 2000)]).reduction).toBeLessThan(0); // a write costs 1.25×
    expect(() => projectAnthropicCaching([], 'gpt-4')).toThrow(/no published price for gpt-4/);
  });

  it("knows each model family's minimum: a 1331-token prefix is cached on Sonnet 4.6, not on Opus 4.6", () => {
    expect(anthropicMinCacheableTokens('claude-sonnet-4-6')).toBe(1024);
    expect(anthropicMinCacheableTokens('claude-opus-4-8')).toBe(1024);
    for (const model of ['claude-opus-4-5-20251101', 'claude-opus-4-6', 'claude-opus-4-7', 'claude-haiku-4-5']) {
      expect(anthropicMinCacheableTokens(model)).toBe(4096);
    }
    expect(anthropicMinCacheableTokens('claude-3-5-haiku-20241022')).toBe(2048);
  });
});
