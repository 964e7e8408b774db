import type { AgentRunInput, AgentRunner } from '@pm/orchestrator';
import type { generateText as generateTextType } from 'ai';
import { aiSdkPrompt } from '../providers/ai-sdk.js';
import { LlmError } from '../errors.js';
import { errorForStatus, promptOf } from './anthropic.js';

/** A language model the AI SDK accepts (`anthropic('claude-sonnet-4-6')`, a wrapped model, ...): typed loosely so `ai` stays optional. */
export type AiSdkModel = Parameters<typeof generateTextType>[0]['model'];

export interface AiSdkRunnerOptions {
  model: AiSdkModel;
  /** @default 1024 */
  maxOutputTokens?: number;
  /** @default 2 (the AI SDK retries 429 and 5xx with backoff) */
  maxRetries?: number;
}

/**
 * An `AgentRunner` on any AI SDK model: the delegation's prefix as the cached system message
 * (Anthropic cache control, OpenAI prompt cache key; see `aiSdkPrompt`), usage in `details`
 * (input, cached input, output tokens). Write a runner module whose default export is
 * `createAiSdkRunner({ model: ... })` and pass its path to the orchestrator.
 */
export function createAiSdkRunner(options: AiSdkRunnerOptions): AgentRunner {
  return {
    async run(input: AgentRunInput) {
      const { generateText } = await import('ai');
      const { messages, providerOptions } = aiSdkPrompt(promptOf(input));
      let result: Awaited<ReturnType<typeof generateText>>;
      try {
        result = await generateText({
          model: options.model,
          messages,
          providerOptions,
          maxOutputTokens: options.maxOutputTokens ?? 1024,
          maxRetries: options.maxRetries ?? 2,
        });
      } catch (error) {
        throw aiSdkError(error);
      }
      const usage = {
        inputTokens: result.usage.inputTokens ?? 0,
        cachedInputTokens: result.usage.inputTokenDetails.cacheReadTokens ?? 0,
        outputTokens: result.usage.outputTokens ?? 0,
      };
      return { output: result.text, details: { model: result.response.modelId, finishReason: result.finishReason, usage } };
    },
  };
}

/** The AI SDK's call error (after its own retries) as an `LlmError`. */
function aiSdkError(error: unknown): LlmError {
  // The AI SDK wraps the last attempt's APICallError in a RetryError once retries ran out.
  const last = (error as { lastError?: unknown }).lastError ?? error;
  const call = last as { statusCode?: unknown; responseHeaders?: Record<string, string>; message?: unknown; url?: unknown };
  if (typeof call.statusCode === 'number') {
    const provider = typeof call.url === 'string' ? new URL(call.url).host : 'the provider';
    return errorForStatus(provider, call.statusCode, String(call.message), call.responseHeaders?.['retry-after'], error);
  }
  return new LlmError('E_LLM_API', `the model call failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
