import { assertPromptParts, type PromptParts } from './prompt-parts.js';

/** A system or user message of the AI SDK (`ModelMessage`), structurally: this package does not import `ai`. */
export type AiSdkMessage =
  | { role: 'system'; content: string; providerOptions: { anthropic: { cacheControl: { type: 'ephemeral'; ttl?: '1h' } } } }
  | { role: 'user'; content: string };

export interface AiSdkPromptOptions {
  /** Anthropic's cache lifetime for the prefix. @default '5m' */
  cacheTtl?: '5m' | '1h';
}

/**
 * The prompt as AI SDK messages and call-level `providerOptions`: the prefix is the system
 * message with Anthropic's `cacheControl` (the AI SDK puts `cache_control` on that block), the
 * task the user message; OpenAI gets `promptCacheKey` (sent as `prompt_cache_key`). Options of
 * a provider the model is not are ignored by the AI SDK, so one call fits both.
 *
 * ```ts
 * const { messages, providerOptions } = aiSdkPrompt(builtPrompt);
 * await generateText({ model, messages, providerOptions });
 * ```
 */
export function aiSdkPrompt(
  prompt: PromptParts,
  options: AiSdkPromptOptions = {},
): { messages: AiSdkMessage[]; providerOptions: { openai: { promptCacheKey: string } } } {
  assertPromptParts(prompt);
  const cacheControl: { type: 'ephemeral'; ttl?: '1h' } =
    options.cacheTtl === '1h' ? { type: 'ephemeral', ttl: '1h' } : { type: 'ephemeral' };
  return {
    messages: [
      { role: 'system', content: prompt.prefix, providerOptions: { anthropic: { cacheControl } } },
      { role: 'user', content: prompt.suffix },
    ],
    providerOptions: { openai: { promptCacheKey: prompt.prefixHash } },
  };
}
