import { LlmError } from '../errors.js';
import { assertPromptParts, type PromptParts } from './prompt-parts.js';

export interface OpenAIParamsOptions {
  model: string;
  /** The role of the prefix message: `developer` for current models, `system` for older ones. @default 'developer' */
  prefixRole?: 'developer' | 'system';
}

export interface OpenAIChatParams {
  model: string;
  messages: { role: 'developer' | 'system' | 'user'; content: string }[];
  prompt_cache_key: string;
}

/**
 * The Chat Completions request for a prompt: the stable prefix first (OpenAI caches the longest
 * prefix it saw, from 1024 tokens, by itself), the task after it, and `prompt_cache_key` set to
 * the prefix's hash so requests sharing the prefix are routed to the same cache.
 */
export function openAIChatParams(prompt: PromptParts, options: OpenAIParamsOptions): OpenAIChatParams {
  assertPromptParts(prompt);
  if (typeof options.model !== 'string' || options.model === '') throw new LlmError('E_LLM_CONFIG', 'model must be a non-empty string');
  return {
    model: options.model,
    messages: [
      { role: options.prefixRole ?? 'developer', content: prompt.prefix },
      { role: 'user', content: prompt.suffix },
    ],
    prompt_cache_key: prompt.prefixHash,
  };
}
