import type { SharedPromptCache } from '@pm/cache-core';
import { projectAnthropicCaching, responseCache, type CachingProjection } from '@pm/llm';
import type { DelegationRequest, PMOrchestrator } from '@pm/orchestrator';
import { generateText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { cyclic, zipfSampler } from './workload.js';

/** The LLM figures of the demo: what prompt caching would save, and what the response cache saved. */
export interface LlmFigures {
  projection: CachingProjection;
  tokensPerDelegation: number;
  /** `distinct`: different prompts among the requests, the fewest model calls possible. */
  responses: { requests: number; distinct: number; modelCalls: number; hitRate: number };
}

/**
 * Every delegation prompt of the run, in request order, priced as Claude Sonnet 4.6 calls with
 * the prefix cached (a projection from published prices, not a bill); then the same Zipf
 * request stream sent through the AI SDK with the shared response cache in front of a local
 * stand-in model (the AI SDK's mock: no network, no key), counting the model calls it saved.
 */
export async function llmFigures(
  cache: SharedPromptCache,
  orchestrator: PMOrchestrator,
  requests: readonly DelegationRequest[],
  draws: number,
): Promise<LlmFigures> {
  const draw = zipfSampler(requests.length, 1.1, 99);
  const sequence = Array.from({ length: draws }, () => cyclic(requests, draw()));
  const prompts = await Promise.all(sequence.map((request) => orchestrator.generateAgentPrompt(request)));
  const projection = projectAnthropicCaching(prompts, 'claude-sonnet-4-6');

  let modelCalls = 0;
  const standIn = new MockLanguageModelV3({
    provider: 'demo',
    modelId: 'stand-in',
    doGenerate: async () => {
      modelCalls++;
      return {
        content: [{ type: 'text', text: `Plan for call ${modelCalls}` }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: {
          inputTokens: { total: 0, noCache: 0, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: 4, text: 4, reasoning: undefined },
        },
        warnings: [],
      };
    },
  });
  const model = wrapLanguageModel({ model: standIn, middleware: responseCache({ cache, ttl: '1h' }) });
  for (const prompt of prompts) await generateText({ model, system: prompt.prefix, prompt: prompt.suffix, temperature: 0 });
  return {
    projection,
    tokensPerDelegation: projection.inputTokens / Math.max(1, projection.calls),
    responses: {
      requests: prompts.length,
      distinct: new Set(prompts.map((prompt) => prompt.text)).size,
      modelCalls,
      hitRate: 1 - modelCalls / Math.max(1, prompts.length),
    },
  };
}
