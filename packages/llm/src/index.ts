export { LlmError, type LlmErrorCode } from './errors.js';
export { assertPromptParts, type PromptParts } from './providers/prompt-parts.js';
export {
  anthropicMessageParams,
  type AnthropicMessageParams,
  type AnthropicParamsOptions,
  type AnthropicTextBlock,
} from './providers/anthropic.js';
export { openAIChatParams, type OpenAIChatParams, type OpenAIParamsOptions } from './providers/openai.js';
export { aiSdkPrompt, type AiSdkMessage, type AiSdkPromptOptions } from './providers/ai-sdk.js';
export { ANTHROPIC_CACHING, ANTHROPIC_PRICES, anthropicMinCacheableTokens, OPENAI_CACHING } from './providers/models.js';
export { projectAnthropicCaching, type CachingProjection } from './cost.js';
export { RESPONSE_NAMESPACE, responseCache, responseCachePattern, type ResponseCacheOptions } from './response-cache.js';
export { createAnthropicRunner, type AnthropicRunnerOptions, type AnthropicUsage } from './runners/anthropic.js';
export { createAiSdkRunner, type AiSdkModel, type AiSdkRunnerOptions } from './runners/ai-sdk.js';
