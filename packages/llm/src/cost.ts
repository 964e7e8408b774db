import { countTokens } from '@pm/prompt-builder';
import { LlmError } from './errors.js';
import { ANTHROPIC_CACHING, ANTHROPIC_PRICES, anthropicMinCacheableTokens } from './providers/models.js';
import { prefixTokensOf, type PromptParts } from './providers/prompt-parts.js';

export interface CachingProjection {
  model: string;
  calls: number;
  inputTokens: number;
  /** Input tokens in prefixes long enough to cache. */
  cacheableTokens: number;
  /** cacheableTokens / inputTokens. */
  cacheableShare: number;
  /** Input cost of the calls without prompt caching, US dollars. */
  uncachedCost: number;
  /** Input cost with the prefix cached: written once per distinct prefix, read after. */
  cachedCost: number;
  /** 1 - cachedCost / uncachedCost. */
  reduction: number;
  /** Prices used, $/MTok, and where they were read. */
  prices: { input: number; cacheWrite: number; cacheRead: number; source: string };
}

/**
 * What Anthropic prompt caching would save on the input of these calls, made in this order
 * within the cache's lifetime (5 minutes, renewed by each read): the first call of each prefix
 * writes it (1.25× the input price), the later ones read it (0.1×); prefixes below the model's
 * minimum are paid in full. A projection from published prices, not a bill.
 */
export function projectAnthropicCaching(calls: readonly PromptParts[], model = 'claude-sonnet-4-6'): CachingProjection {
  const price = ANTHROPIC_PRICES[model];
  if (price === undefined)
    throw new LlmError('E_LLM_CONFIG', `no published price for ${model}; known: ${Object.keys(ANTHROPIC_PRICES).join(', ')}`);
  // Rounded to a millionth of a dollar: 3 × 0.1 is 0.30000000000000004 in binary floating point.
  const cacheWrite = roundPrice(price.input * ANTHROPIC_CACHING.writeMultiplier5m);
  const cacheRead = roundPrice(price.input * ANTHROPIC_CACHING.readMultiplier);
  const minimum = anthropicMinCacheableTokens(model);
  const written = new Set<string>();
  let inputTokens = 0;
  let cacheableTokens = 0;
  let uncached = 0;
  let cached = 0;
  for (const call of calls) {
    const prefix = prefixTokensOf(call);
    const suffix = countTokens(call.suffix);
    inputTokens += prefix + suffix;
    uncached += (prefix + suffix) * price.input;
    if (prefix < minimum) {
      cached += (prefix + suffix) * price.input;
      continue;
    }
    cacheableTokens += prefix;
    cached += suffix * price.input + prefix * (written.has(call.prefixHash) ? cacheRead : cacheWrite);
    written.add(call.prefixHash);
  }
  const perToken = 1 / 1_000_000;
  return {
    model,
    calls: calls.length,
    inputTokens,
    cacheableTokens,
    cacheableShare: inputTokens === 0 ? 0 : cacheableTokens / inputTokens,
    uncachedCost: uncached * perToken,
    cachedCost: cached * perToken,
    reduction: uncached === 0 ? 0 : 1 - cached / uncached,
    prices: { input: price.input, cacheWrite, cacheRead, source: ANTHROPIC_CACHING.source },
  };
}

function roundPrice(dollarsPerMTok: number): number {
  return Math.round(dollarsPerMTok * 1e6) / 1e6;
}
