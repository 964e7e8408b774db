/**
 * Provider facts the adapters and the cost projection rely on, with where they were read
 * (checked 2026-11-30). Prices in US dollars per million tokens.
 */

/** Anthropic: https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching */
export const ANTHROPIC_CACHING = {
  /** Breakpoints (`cache_control` blocks) one request may carry. */
  maxBreakpoints: 4,
  /** A 5-minute cache write costs this many times the base input price; a 1-hour write twice it. */
  writeMultiplier5m: 1.25,
  writeMultiplier1h: 2,
  /** A cache read costs this share of the base input price. */
  readMultiplier: 0.1,
  source: 'https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching',
} as const;

/**
 * The shortest prefix Anthropic caches, by model: 4096 tokens for Claude Opus 4.5, 4.6 and 4.7
 * and Haiku 4.5, 2048 for the Haiku 3 family, 1024 for the others (Sonnet 4.x, Opus 4/4.1/4.8,
 * Sonnet 3.7). A
 * shorter prefix with `cache_control` is not cached and not an error, so the adapter leaves the
 * breakpoint out rather than pretend.
 */
export function anthropicMinCacheableTokens(model: string): number {
  if (/opus-4-[567]|haiku-4-5/.test(model)) return 4096;
  if (/haiku-3|3-haiku|3-5-haiku/.test(model)) return 2048;
  return 1024;
}

/** Published list prices of the models the demo projects for (input, output; $/MTok). */
export const ANTHROPIC_PRICES: Readonly<Record<string, { input: number; output: number }>> = {
  'claude-sonnet-4-6': { input: 3, output: 15 },
  /** End of life on 2026-11-30 (the Anthropic SDK's deprecation list): kept to price old runs. */
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-haiku-4-5': { input: 1, output: 5 },
};

/**
 * OpenAI caches prompts of 1024 tokens or more by itself (in 128-token steps) and routes requests
 * with the same `prompt_cache_key` together: https://platform.openai.com/docs/guides/prompt-caching
 * and the cookbook's "Prompt Caching 201".
 */
export const OPENAI_CACHING = { minTokens: 1024, source: 'https://platform.openai.com/docs/guides/prompt-caching' } as const;
