import { LlmError } from '../errors.js';
import { anthropicMinCacheableTokens } from './models.js';
import { assertPromptParts, prefixTokensOf, type PromptParts } from './prompt-parts.js';

export interface AnthropicParamsOptions {
  /** e.g. `claude-sonnet-4-6`. */
  model: string;
  /** @default 1024 */
  maxTokens?: number;
  /** How long Anthropic keeps the prefix: '5m' (writes cost 1.25× input) or '1h' (2×). @default '5m' */
  cacheTtl?: '5m' | '1h';
}

/** A text block of the Messages API, with the cache breakpoint where there is one. */
export interface AnthropicTextBlock {
  type: 'text';
  text: string;
  cache_control?: { type: 'ephemeral'; ttl?: '1h' };
}

/** The Messages API request for a prompt: spread into `client.messages.create()`. */
export interface AnthropicMessageParams {
  model: string;
  max_tokens: number;
  system: AnthropicTextBlock[];
  messages: { role: 'user'; content: string }[];
}

/**
 * The Messages API request that caches the prompt's stable prefix: the prefix is the `system`
 * block and carries `cache_control: { type: 'ephemeral' }` (the one breakpoint of the four a
 * request may have: everything up to it is cached); the task follows as the user message. A
 * prefix shorter than the model's minimum gets no breakpoint: Anthropic would not cache it.
 * @throws LlmError (E_LLM_PROMPT, E_LLM_CONFIG) for a prompt or options no request can be made of
 */
export function anthropicMessageParams(prompt: PromptParts, options: AnthropicParamsOptions): AnthropicMessageParams {
  assertPromptParts(prompt);
  if (typeof options.model !== 'string' || options.model === '') throw new LlmError('E_LLM_CONFIG', 'model must be a non-empty string');
  const maxTokens = options.maxTokens ?? 1024;
  if (!Number.isSafeInteger(maxTokens) || maxTokens <= 0)
    throw new LlmError('E_LLM_CONFIG', `maxTokens must be a positive integer, got ${String(maxTokens)}`);
  const cacheable = prefixTokensOf(prompt) >= anthropicMinCacheableTokens(options.model);
  const block: AnthropicTextBlock = { type: 'text', text: prompt.prefix };
  if (cacheable) block.cache_control = options.cacheTtl === '1h' ? { type: 'ephemeral', ttl: '1h' } : { type: 'ephemeral' };
  return { model: options.model, max_tokens: maxTokens, system: [block], messages: [{ role: 'user', content: prompt.suffix }] };
}
