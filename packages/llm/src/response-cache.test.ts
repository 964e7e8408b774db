import { SharedPromptCache } from '@pm/cache-core';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { generated, streamed, streamOf } from './fixtures/models.js';
import { responseCache, responseCachePattern } from './response-cache.js';

function setup(options: Partial<Parameters<typeof responseCache>[0]> = {}, answer = generated('hello')) {
  const cache = new SharedPromptCache();
  const events: string[] = [];
  const mock = new MockLanguageModelV3({ provider: 'mock', modelId: 'mock-model', doGenerate: async () => answer });
  const model = wrapLanguageModel({
    model: mock,
    middleware: responseCache({ cache, onResult: (e) => events.push(e.outcome), ...options }),
  });
  return { cache, mock, model, events };
}

describe('responseCache (AI SDK middleware)', () => {
  it('answers an identical deterministic call from the cache: one model call', async () => {
    const { mock, model, events } = setup();
    const a = await generateText({ model, prompt: 'Summarize the plan', temperature: 0 });
    const b = await generateText({ model, prompt: 'Summarize the plan', temperature: 0 });
    expect(a.text).toBe('hello');
    expect(b.text).toBe('hello');
    expect(b.response.timestamp).toEqual(new Date('2026-11-30T10:00:00Z'));
    expect(mock.doGenerateCalls).toHaveLength(1);
    expect(events).toEqual(['model', 'hit']);
  });

  it('keys by every setting that shapes the answer: another prompt, model setting or seed is another call', async () => {
    const { mock, model } = setup();
    await generateText({ model, prompt: 'p', temperature: 0 });
    await generateText({ model, prompt: 'p2', temperature: 0 });
    await generateText({ model, prompt: 'p', temperature: 0, maxOutputTokens: 50 });
    await generateText({ model, prompt: 'p', seed: 7, temperature: 0.7 });
    await generateText({ model, prompt: 'p', temperature: 0, headers: { 'x-request-id': 'other' } }); // headers do not count
    expect(mock.doGenerateCalls).toHaveLength(4);
  });

  it('sends non-deterministic calls to the model unless told to cache them', async () => {
    const plain = setup();
    await generateText({ model: plain.model, prompt: 'p', temperature: 0.7 });
    await generateText({ model: plain.model, prompt: 'p' }); // the provider's default temperature
    await generateText({ model: plain.model, prompt: 'p' });
    expect(plain.mock.doGenerateCalls).toHaveLength(3);
    expect(plain.events).toEqual(['bypass', 'bypass', 'bypass']);
    const opted = setup({ cacheNonDeterministic: true });
    await generateText({ model: opted.model, prompt: 'p', temperature: 0.7 });
    await generateText({ model: opted.model, prompt: 'p', temperature: 0.7 });
    expect(opted.mock.doGenerateCalls).toHaveLength(1);
  });

  it('never caches an error, a failed or a filtered finish: the next call asks the model again', async () => {
    let calls = 0;
    const cache = new SharedPromptCache();
    const mock = new MockLanguageModelV3({
      doGenerate: async () => {
        calls++;
        if (calls === 1) throw new Error('overloaded');
        return calls === 2 ? generated('', 'content-filter') : generated('fine');
      },
    });
    const model = wrapLanguageModel({ model: mock, middleware: responseCache({ cache }) });
    await expect(generateText({ model, prompt: 'p', temperature: 0, maxRetries: 0 })).rejects.toThrow('overloaded');
    expect((await generateText({ model, prompt: 'p', temperature: 0 })).finishReason).toBe('content-filter');
    expect((await generateText({ model, prompt: 'p', temperature: 0 })).text).toBe('fine');
    expect((await generateText({ model, prompt: 'p', temperature: 0 })).text).toBe('fine');
    expect(calls).toBe(3);
    expect(cache.getMetrics().entryCount).toBe(1);
  });

  it('shares one model call among concurrent identical calls', async () => {
    let calls = 0;
    const cache = new SharedPromptCache();
    const mock = new MockLanguageModelV3({
      doGenerate: async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return generated('once');
      },
    });
    const model = wrapLanguageModel({ model: mock, middleware: responseCache({ cache }) });
    const texts = await Promise.all(
      Array.from({ length: 10 }, () => generateText({ model, prompt: 'p', temperature: 0 }).then((r) => r.text)),
    );
    expect(texts).toEqual(Array(10).fill('once'));
    expect(calls).toBe(1);
  });

  it('replays a stream part for part, and never keeps a stream that ended in an error', async () => {
    const cache = new SharedPromptCache();
    let streams = 0;
    const mock = new MockLanguageModelV3({
      doStream: async () => ({ stream: streamOf(streamed(++streams === 1 ? ['Hel', 'lo'] : ['x'], streams === 1 ? 'finish' : 'error')) }),
    });
    const model = wrapLanguageModel({ model: mock, middleware: responseCache({ cache }) });
    const read = async (prompt: string) => {
      const result = streamText({ model, prompt, temperature: 0 });
      const chunks: string[] = [];
      for await (const chunk of result.textStream) chunks.push(chunk);
      return chunks;
    };
    expect(await read('s')).toEqual(['Hel', 'lo']);
    expect(await read('s')).toEqual(['Hel', 'lo']); // replayed: same parts
    expect(streams).toBe(1);
    const failing = streamText({ model, prompt: 'other', temperature: 0, onError: () => undefined });
    for await (const _ of failing.textStream); // the error part reaches the caller
    expect(cache.getMetrics().entryCount).toBe(1);
  });

  it('honours TTL, tags and invalidation by provider and model', async () => {
    const { cache, mock, model } = setup({ ttl: 40, tags: ['llm:mock'] });
    await generateText({ model, prompt: 'p', temperature: 0 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    await generateText({ model, prompt: 'p', temperature: 0 });
    expect(mock.doGenerateCalls).toHaveLength(2); // expired
    expect(await cache.invalidateTags(['llm:mock'])).toBe(1);
    await generateText({ model, prompt: 'q', temperature: 0 });
    expect(await cache.invalidate(responseCachePattern('mock', 'mock-model'))).toBe(1);
    expect(await cache.invalidate(responseCachePattern('other'))).toBe(0);
  });

  it('refuses a configuration without a cache', () => {
    expect(() => responseCache({} as never)).toThrow(/needs \{ cache: SharedPromptCache \}/);
  });
});
