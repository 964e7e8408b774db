import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { SharedPromptCache } from '@pm/cache-core';
import { PMOrchestrator } from '@pm/orchestrator';
import { AgentPromptBuilder } from '@pm/prompt-builder';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlmError } from '../errors.js';
import { promptOf } from '../fixtures/prompts.js';
import { anthropicError, AnthropicWireServer } from '../testing/anthropic-server.js';
import { openAIError, OpenAIWireServer } from '../testing/openai-server.js';
import { createAiSdkRunner } from './ai-sdk.js';
import { createAnthropicRunner } from './anthropic.js';

const KEY = 'sk-ant-api03-SECRET-never-shown';
const server = new AnthropicWireServer();
beforeAll(async () => {
  await server.start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const input = (task: string) => {
  const p = promptOf('engineer', task);
  return { agentType: 'engineer', prompt: p.text, prefix: p.prefix, suffix: p.suffix, prefixHash: p.prefixHash, taskDescription: task };
};
/** The error `run` rejects with (a test of a failure fails if it does not fail). */
async function failure(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}
const runner = (options = {}) => createAnthropicRunner({ apiKey: KEY, baseURL: server.url, model: 'claude-sonnet-4-6', ...options });

describe('the Anthropic runner (official SDK)', () => {
  it('sends the prefix with cache control and reports usage: a cache write, then reads', async () => {
    const first = await runner().run(input('Implement auth'));
    const second = await runner().run(input('Implement billing'));
    expect(first.output).toContain('Done');
    expect(first.details).toMatchObject({ model: 'claude-sonnet-4-6', stopReason: 'end_turn' });
    const [u1, u2] = [first.details?.usage, second.details?.usage] as { cacheCreationInputTokens: number; cacheReadInputTokens: number }[];
    expect(u1!.cacheCreationInputTokens).toBeGreaterThan(1024);
    expect(u2!.cacheReadInputTokens).toBe(u1!.cacheCreationInputTokens);
    expect((server.requests[0]!.body as { system: { cache_control?: unknown }[] }).system[0]!.cache_control).toEqual({ type: 'ephemeral' });
  });

  it('retries a rate limit (429) after the retry-after the provider gives, then succeeds', async () => {
    server.failNext(
      anthropicError(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', { 'retry-after': '1' }),
    );
    const started = Date.now();
    const result = await runner().run(input('t'));
    expect(result.output).toContain('Done');
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('retries overload (529) and then fails with a typed error; never retries an invalid request (400)', async () => {
    server.failNext(...Array.from({ length: 3 }, () => anthropicError(529, 'overloaded_error', 'Overloaded', { 'retry-after': '0' })));
    const overloaded = await failure(() => runner({ maxRetries: 2 }).run(input('t')));
    expect(overloaded).toBeInstanceOf(LlmError);
    expect(overloaded).toMatchObject({ code: 'E_LLM_OVERLOADED', status: 529 });
    expect(server.requests).toHaveLength(3);

    server.requests.length = 0;
    server.failNext(anthropicError(400, 'invalid_request_error', 'max_tokens: must be at most 64000'));
    const invalid = await failure(() => runner().run(input('t')));
    expect(invalid).toMatchObject({ code: 'E_LLM_INVALID_REQUEST', status: 400 });
    expect((invalid as Error).message).toContain('max_tokens: must be at most 64000');
    expect(server.requests).toHaveLength(1);
  });

  it('says clearly when there is no key, and never shows the key it has', async () => {
    const saved = process.env.ANTHROPIC_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    try {
      await expect(createAnthropicRunner({ baseURL: server.url }).run(input('t'))).rejects.toThrow(/set ANTHROPIC_API_KEY/);
    } finally {
      if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved;
    }
    expect(server.requests).toHaveLength(0);
    server.failNext(anthropicError(401, 'authentication_error', 'invalid x-api-key'));
    const refused = (await failure(() => runner().run(input('t')))) as LlmError;
    expect(refused.code).toBe('E_LLM_AUTH');
    expect(JSON.stringify({ message: refused.message, stack: refused.stack, cause: String(refused.cause) })).not.toContain('SECRET');
  });
});

describe('the AI SDK runner', () => {
  it('runs any AI SDK model with the cached prefix and reports its usage', async () => {
    const model = createAnthropic({ apiKey: KEY, baseURL: `${server.url}/v1` })('claude-sonnet-4-6');
    const run = createAiSdkRunner({ model, maxRetries: 0 });
    await run.run(input('first'));
    const second = await run.run(input('second'));
    expect(second.output).toContain('Done');
    expect(second.details?.usage).toMatchObject({ cachedInputTokens: expect.any(Number) as number });
    expect((second.details?.usage as { cachedInputTokens: number }).cachedInputTokens).toBeGreaterThan(1024);
  });
});

describe('the AI SDK runner on OpenAI: errors in the shape OpenAI sends them', () => {
  const openai = new OpenAIWireServer();
  beforeAll(async () => {
    await openai.start();
  });
  afterAll(async () => {
    await openai.close();
  });

  it('retries a 429, then succeeds; a 400 is a typed error at once', async () => {
    const model = createOpenAI({ apiKey: KEY, baseURL: `${openai.url}/v1` }).chat('gpt-4.1');
    const run = createAiSdkRunner({ model, maxRetries: 2 });
    openai.failNext(openAIError(429, 'rate_limit_exceeded', 'Rate limit reached for gpt-4.1', { 'retry-after': '0' }));
    expect((await run.run(input('a'))).output).toBe('Done.');
    expect(openai.requests).toHaveLength(2);
    expect((openai.requests[1]!.body as { prompt_cache_key: string }).prompt_cache_key).toMatch(/^[0-9a-f]{64}$/);
    openai.failNext(openAIError(400, 'invalid_request_error', "Invalid 'messages[1].content': string too long"));
    const failed = await failure(() => run.run(input('b')));
    expect(failed).toMatchObject({ code: 'E_LLM_INVALID_REQUEST', status: 400 });
    expect(openai.requests).toHaveLength(3);
    expect(JSON.stringify(openai.requests.map((r) => r.headers))).not.toContain('SECRET');
  });
});

describe('delegation through the orchestrator to the runner module in an agent subprocess', () => {
  let projectDir: string;
  beforeAll(async () => {
    projectDir = await mkdtemp(path.join(tmpdir(), 'pm-llm-orch-'));
    await mkdir(path.join(projectDir, '.pm/agents'), { recursive: true });
    await writeFile(
      path.join(projectDir, '.pm/agents/engineer.md'),
      `---\nname: engineer\ndescription: Builds\n---\n${'You build carefully. '.repeat(400)}\n`,
    );
  });
  afterAll(async () => {
    await rm(projectDir, { recursive: true, force: true });
  });

  it('calls the model with the delegation prefix cached, usage in the result details', async () => {
    Object.assign(process.env, { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url, PM_LLM_MODEL: 'claude-sonnet-4-6' });
    const cache = new SharedPromptCache();
    const builder = new AgentPromptBuilder({ projectDir, userDir: projectDir, cache });
    // The runner module is TypeScript here: the agent processes load it through tsx.
    const execArgv = ['--import', createRequire(import.meta.url).resolve('tsx')];
    const orchestrator = new PMOrchestrator({ builder, cache, runner: new URL('./anthropic-runner.ts', import.meta.url), execArgv });
    try {
      const first = await orchestrator.delegate({ agentType: 'engineer', taskDescription: 'Implement auth' });
      const second = await orchestrator.delegate({ agentType: 'engineer', taskDescription: 'Implement billing' });
      expect(first.output).toContain('Done');
      expect((second.details?.usage as { cacheReadInputTokens: number }).cacheReadInputTokens).toBeGreaterThan(1024);
      const sent = server.requests.at(-1)!.body as { system: { text: string }[]; messages: { content: string }[] };
      expect(sent.messages[0]!.content).toContain('Implement billing');
      expect(sent.system[0]!.text).not.toContain('Implement billing');
    } finally {
      await orchestrator.stop();
    }
  }, 60_000);
});
