import Anthropic from '@anthropic-ai/sdk';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptOf } from '../fixtures/prompts.js';
import { AnthropicWireServer } from '../testing/anthropic-server.js';
import { OpenAIWireServer } from '../testing/openai-server.js';
import { aiSdkPrompt } from './ai-sdk.js';
import { anthropicMessageParams } from './anthropic.js';
import { openAIChatParams } from './openai.js';

const anthropicServer = new AnthropicWireServer();
const openaiServer = new OpenAIWireServer();
beforeAll(async () => {
  await Promise.all([anthropicServer.start(), openaiServer.start()]);
});
afterAll(async () => {
  await Promise.all([anthropicServer.close(), openaiServer.close()]);
});

describe('Anthropic Messages, through the official SDK', () => {
  const client = () => new Anthropic({ apiKey: 'sk-ant-test-key', baseURL: anthropicServer.url, maxRetries: 0 });

  it('sends the prefix as a system block closed by cache_control, the task after it; the second task reads the cache', async () => {
    const first = promptOf('reviewer', 'Review the login change');
    const second = promptOf('reviewer', 'Review the signup change');
    const reply1 = await client().messages.create(anthropicMessageParams(first, { model: 'claude-sonnet-4-6' }));
    const reply2 = await client().messages.create(anthropicMessageParams(second, { model: 'claude-sonnet-4-6' }));
    const sent = anthropicServer.requests.at(-1)!;
    expect(sent.body).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 1024,
      system: [{ type: 'text', text: second.prefix, cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: second.suffix }],
    });
    // The breakpoint sits exactly where the prefix ends: the bytes before it are the prefix.
    const raw = sent.raw;
    const breakpoint = raw.indexOf('"cache_control"');
    expect(raw.indexOf(JSON.stringify(second.prefix))).toBeLessThan(breakpoint);
    expect(raw.indexOf(JSON.stringify(second.suffix))).toBeGreaterThan(breakpoint);
    expect(raw.match(/cache_control/g)).toHaveLength(1); // one breakpoint of the four allowed
    expect(sent.headers['x-api-key'] ?? sent.headers.authorization).toBe('***'); // sent, and not kept
    expect(reply1.usage.cache_creation_input_tokens).toBe(first.prefixTokens);
    expect(reply2.usage.cache_read_input_tokens).toBe(second.prefixTokens);
  });

  it('leaves the breakpoint out when the prefix is below the model minimum (1024, 2048 for Haiku 3, 4096 for Opus 4.5)', () => {
    const short = promptOf('qa', 'Check it', 600);
    expect(anthropicMessageParams(short, { model: 'claude-sonnet-4-6' }).system[0]).not.toHaveProperty('cache_control');
    const mid = promptOf('qa', 'Check it', 1500);
    expect(anthropicMessageParams(mid, { model: 'claude-sonnet-4-6' }).system[0]?.cache_control).toEqual({ type: 'ephemeral' });
    expect(anthropicMessageParams(mid, { model: 'claude-3-5-haiku-latest' }).system[0]).not.toHaveProperty('cache_control');
    expect(anthropicMessageParams(mid, { model: 'claude-opus-4-5' }).system[0]).not.toHaveProperty('cache_control');
    expect(anthropicMessageParams(mid, { model: 'claude-sonnet-4-6', cacheTtl: '1h' }).system[0]?.cache_control).toEqual({
      type: 'ephemeral',
      ttl: '1h',
    });
  });

  it('rejects prompts and options no request can be made of, naming the problem', () => {
    const good = promptOf('qa', 'x');
    expect(() => anthropicMessageParams({ ...good, suffix: '  ' }, { model: 'm' })).toThrow(/no task/);
    expect(() => anthropicMessageParams({ text: 'x' } as never, { model: 'm' })).toThrow(/prefix and suffix/);
    expect(() => anthropicMessageParams(good, { model: '' })).toThrow(/model/);
    expect(() => anthropicMessageParams(good, { model: 'm', maxTokens: 0 })).toThrow(/maxTokens/);
  });
});

describe('OpenAI Chat Completions, through the official SDK', () => {
  it('sends the prefix first and prompt_cache_key from its hash; the second call reports cached tokens', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${openaiServer.url}/v1`, maxRetries: 0 });
    const first = promptOf('planner', 'Plan the release');
    const second = promptOf('planner', 'Plan the hotfix');
    await client.chat.completions.create(openAIChatParams(first, { model: 'gpt-4.1' }));
    const reply = await client.chat.completions.create(openAIChatParams(second, { model: 'gpt-4.1' }));
    expect(openaiServer.requests.at(-1)!.body).toEqual({
      model: 'gpt-4.1',
      messages: [
        { role: 'developer', content: second.prefix },
        { role: 'user', content: second.suffix },
      ],
      prompt_cache_key: second.prefixHash,
    });
    expect(reply.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(1024);
  });
});

describe('the AI SDK (6.x providers)', () => {
  it('puts cache_control on the Anthropic system block and prompt_cache_key on the OpenAI request, from one prompt', async () => {
    const prompt = promptOf('writer', 'Write the changelog');
    const { messages, providerOptions } = aiSdkPrompt(prompt);
    const anthropic = createAnthropic({ apiKey: 'k', baseURL: `${anthropicServer.url}/v1` });
    const answer = await generateText({ model: anthropic('claude-sonnet-4-6'), messages, providerOptions, maxRetries: 0 });
    expect(answer.text).toContain('Done');
    const sentToAnthropic = anthropicServer.requests.at(-1)!.body as { system: unknown; messages: unknown[] };
    expect(sentToAnthropic.system).toEqual([{ type: 'text', text: prompt.prefix, cache_control: { type: 'ephemeral' } }]);
    expect(JSON.stringify(sentToAnthropic.messages)).toContain('Write the changelog');

    const openai = createOpenAI({ apiKey: 'k', baseURL: `${openaiServer.url}/v1` });
    await generateText({ model: openai.chat('gpt-4.1'), messages, providerOptions, maxRetries: 0 });
    const sentToOpenAI = openaiServer.requests.at(-1)!.body as { prompt_cache_key: string; messages: { role: string; content: string }[] };
    expect(sentToOpenAI.prompt_cache_key).toBe(prompt.prefixHash);
    expect(sentToOpenAI.messages[0]).toEqual({ role: 'system', content: prompt.prefix });
  });
});
