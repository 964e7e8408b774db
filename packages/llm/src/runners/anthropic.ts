import Anthropic from '@anthropic-ai/sdk';
import type { AgentRunInput, AgentRunner } from '@pm/orchestrator';
import { LlmError } from '../errors.js';
import { anthropicMessageParams } from '../providers/anthropic.js';

export interface AnthropicRunnerOptions {
  /** @default process.env.ANTHROPIC_API_KEY */
  apiKey?: string;
  /** @default process.env.PM_LLM_MODEL ?? 'claude-sonnet-4-6' */
  model?: string;
  /** @default process.env.PM_LLM_MAX_TOKENS ?? 1024 */
  maxTokens?: number;
  /** Retries of a rate-limited (429), overloaded (529) or failing (5xx) call, waiting as the provider says (`retry-after`). @default 2 */
  maxRetries?: number;
  /** @default process.env.ANTHROPIC_BASE_URL, else Anthropic's API */
  baseURL?: string;
  /** @default '5m' */
  cacheTtl?: '5m' | '1h';
}

/** Token usage of one call, as Anthropic reports it. */
export interface AnthropicUsage {
  inputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  outputTokens: number;
}

const positiveInt = (name: string, raw: string | number | undefined, fallback: number): number => {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new LlmError('E_LLM_CONFIG', `${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
};

/**
 * An `AgentRunner` that calls Claude: the delegation's stable prefix as a cached system block,
 * the task as the user message (see `anthropicMessageParams`); the answer's text is the output,
 * and `details` carry the model, the stop reason and the usage (input, cache-creation,
 * cache-read and output tokens). Rate limits and overload are retried by the SDK as the provider
 * asks; what still fails is an `LlmError` with a stable code. The key is never logged or put in
 * an error.
 * @throws LlmError E_LLM_CONFIG when no API key is configured (at the first task, in the subprocess)
 */
export function createAnthropicRunner(options: AnthropicRunnerOptions = {}): AgentRunner {
  let client: Anthropic | undefined;
  const model = options.model ?? process.env.PM_LLM_MODEL ?? 'claude-sonnet-4-6';
  const connect = (): Anthropic => {
    if (client !== undefined) return client;
    const apiKey = options.apiKey ?? process.env.ANTHROPIC_API_KEY;
    if (apiKey === undefined || apiKey.trim() === '')
      throw new LlmError(
        'E_LLM_CONFIG',
        'no Anthropic API key: set ANTHROPIC_API_KEY in the environment of the agent processes (or pass apiKey)',
      );
    client = new Anthropic({
      apiKey,
      maxRetries: positiveInt('maxRetries', options.maxRetries ?? process.env.PM_LLM_MAX_RETRIES, 2),
      ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
    });
    return client;
  };
  const maxTokens = positiveInt('maxTokens', options.maxTokens ?? process.env.PM_LLM_MAX_TOKENS, 1024);
  return {
    async run(input: AgentRunInput) {
      const params = anthropicMessageParams(promptOf(input), {
        model,
        maxTokens,
        ...(options.cacheTtl === undefined ? {} : { cacheTtl: options.cacheTtl }),
      });
      let message: Anthropic.Message;
      try {
        message = await connect().messages.create(params);
      } catch (error) {
        throw providerError(error);
      }
      const output = message.content
        .filter((block): block is Anthropic.TextBlock => block.type === 'text')
        .map((block) => block.text)
        .join('');
      const usage: AnthropicUsage = {
        inputTokens: message.usage.input_tokens,
        cacheCreationInputTokens: message.usage.cache_creation_input_tokens ?? 0,
        cacheReadInputTokens: message.usage.cache_read_input_tokens ?? 0,
        outputTokens: message.usage.output_tokens,
      };
      return { output, details: { model: message.model, stopReason: message.stop_reason, usage } };
    },
  };
}

/** The delegation's parts; a runner input from an older orchestrator has only the whole prompt. */
export function promptOf(input: AgentRunInput): { prefix: string; suffix: string; prefixHash: string; prefixTokens?: number } {
  if (input.prefix !== undefined && input.suffix !== undefined && input.prefixHash !== undefined)
    return { prefix: input.prefix, suffix: input.suffix, prefixHash: input.prefixHash };
  throw new LlmError('E_LLM_PROMPT', 'the runner input has no prefix/suffix: use an orchestrator that sends them (@pm/orchestrator 0.1+)');
}

/** The SDK's error as an `LlmError` with a stable code (the SDK's message never holds the key). */
export function providerError(error: unknown): LlmError {
  if (error instanceof LlmError) return error;
  if (!(error instanceof Anthropic.APIError) || error.status === undefined)
    return new LlmError('E_LLM_API', `Anthropic did not answer: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  const headers = error.headers as Headers | undefined;
  const status: number = error.status as number;
  return errorForStatus('Anthropic', status, error.message, headers?.get('retry-after') ?? undefined, error);
}

/** A provider's HTTP error as an `LlmError`: rate limit, overload, authentication, invalid request, or other. */
export function errorForStatus(
  provider: string,
  status: number,
  message: string,
  retryAfter: string | undefined,
  cause: unknown,
): LlmError {
  const seconds = Number(retryAfter);
  const common = { cause, status, ...(retryAfter !== undefined && Number.isFinite(seconds) ? { retryAfterMs: seconds * 1000 } : {}) };
  if (status === 429) return new LlmError('E_LLM_RATE_LIMIT', `${provider} rate limit (429) after retries: ${message}`, common);
  if (status === 529 || status === 503)
    return new LlmError('E_LLM_OVERLOADED', `${provider} is overloaded (${status}) after retries: ${message}`, common);
  if (status === 401 || status === 403) return new LlmError('E_LLM_AUTH', `${provider} refused the API key (${status})`, common);
  if (status === 400 || status === 404 || status === 413 || status === 422)
    return new LlmError('E_LLM_INVALID_REQUEST', `${provider} rejected the request (${status}): ${message}`, common);
  return new LlmError('E_LLM_API', `${provider} answered ${status}: ${message}`, common);
}
