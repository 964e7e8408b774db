import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeCacheKey, SharedPromptCache } from '@pm/cache-core';
import { AgentPromptBuilder } from '@pm/prompt-builder';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DelegationError, OrchestratorError } from './errors.js';
import { PMOrchestrator, type PMOrchestratorOptions } from './pm-orchestrator.js';

const misbehaving = new URL('./fixtures/misbehaving-runner.ts', import.meta.url);
let projectDir: string;
const orchestrators: PMOrchestrator[] = [];

beforeEach(async () => {
  projectDir = await mkdtemp(path.join(tmpdir(), 'pm-orch-'));
  await mkdir(path.join(projectDir, '.pm/agents'), { recursive: true });
  await writeFile(
    path.join(projectDir, '.pm/agents/engineer.md'),
    '---\nname: engineer\ndescription: Builds things\nvariables: [agent]\n---\n# {agent}\n\nYou build things.\n',
  );
});

afterEach(async () => {
  await Promise.all(orchestrators.splice(0).map((o) => o.stop()));
  await rm(projectDir, { recursive: true, force: true });
});

function orchestrator(options: Partial<PMOrchestratorOptions> = {}) {
  const cache = options.cache ?? new SharedPromptCache();
  const builder = options.builder ?? new AgentPromptBuilder({ projectDir, userDir: projectDir, cache });
  const o = new PMOrchestrator({ builder, cache, ...options });
  orchestrators.push(o);
  return { orchestrator: o, cache, builder };
}

describe('generateAgentPrompt', () => {
  it('builds the task prompt plus a delegation brief, cached as delegation_prompt:<agent>:<hash> for 15 minutes', async () => {
    const { orchestrator: o, cache, builder } = orchestrator();
    const request = { agentType: 'engineer', taskDescription: 'Implement auth', requirements: ['jwt'], priority: 'high' as const };
    const prompt = await o.generateAgentPrompt(request);
    const taskPrompt = await builder.buildTaskToolPrompt('engineer', { task: 'Implement auth', requirements: ['jwt'], priority: 'high' });
    expect(prompt.prefix).toBe(taskPrompt.prefix);
    expect(prompt.suffix).toContain('delegated this task by the PM orchestrator');
    expect(prompt.text).toBe(prompt.prefix + prompt.suffix);
    const key = `delegation_prompt:engineer:${makeCacheKey(projectDir, { taskDescription: 'Implement auth', requirements: ['jwt'], priority: 'high' })}`;
    expect(cache.getSync(key)).toBe(prompt);
    expect(cache.getCacheInfo().entries.find((e) => e.key === key)!.ttlMs).toBe(15 * 60_000);
    expect(await o.generateAgentPrompt({ ...request })).toBe(prompt);
  });

  it('rejects bad requests with clear errors', async () => {
    const { orchestrator: o } = orchestrator();
    await expect(o.generateAgentPrompt({ agentType: '', taskDescription: 'x' })).rejects.toThrow(/agentType must be a non-empty string/);
    await expect(o.generateAgentPrompt({ agentType: 'engineer', taskDescription: ' ' })).rejects.toThrow(/taskDescription/);
    await expect(o.generateAgentPrompt({ agentType: 'engineer', taskDescription: 'x', priority: 'urgent' as never })).rejects.toThrow(
      /priority must be one of/,
    );
    await expect(o.generateAgentPrompt({ agentType: 'nobody', taskDescription: 'x' })).rejects.toThrow(/no profile for agent "nobody"/);
    expect(() => new PMOrchestrator({} as never)).toThrow(OrchestratorError);
    expect(() => orchestrator({ maxAgents: 0 })).toThrow(/maxAgents/);
  });

  it('works uncached without a cache, and getCacheMetrics says so', async () => {
    const builder = new AgentPromptBuilder({ projectDir, userDir: projectDir });
    const o = new PMOrchestrator({ builder });
    orchestrators.push(o);
    expect((await o.generateAgentPrompt({ agentType: 'engineer', taskDescription: 'x' })).text).toContain('You build things');
    expect(o.getCacheMetrics()).toBeUndefined();
  });
});

describe('delegate', () => {
  it('runs the task in a real subprocess with the default runner and reports prompt readiness', async () => {
    const { orchestrator: o } = orchestrator({ maxAgents: 1 });
    await o.start();
    const result = await o.delegate({ agentType: 'engineer', taskDescription: 'Implement auth' });
    expect(result.output).toMatch(/^engineer received "Implement auth": \d+ characters, starting "# engineer"/);
    expect(result.pid).not.toBe(process.pid);
    expect(result.promptReadyMs).toBeGreaterThan(0);
    expect(result.totalMs).toBeGreaterThanOrEqual(result.promptReadyMs);
    const again = await o.delegate({ agentType: 'engineer', taskDescription: 'Review auth' });
    expect(again.pid).toBe(result.pid); // the slot's process is reused
  });

  it('plugs in a runner module', async () => {
    const { orchestrator: o } = orchestrator({ runner: misbehaving });
    const result = await o.delegate({ agentType: 'engineer', taskDescription: 'hello' });
    expect(result).toMatchObject({ output: 'engineer:hello', details: { promptChars: expect.any(Number) as number } });
  });

  it('reports a crashed subprocess and does not leak its slot', async () => {
    const { orchestrator: o } = orchestrator({ runner: misbehaving, maxAgents: 1 });
    const error = await o.delegate({ agentType: 'engineer', taskDescription: 'crash' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DelegationError);
    expect(error).toMatchObject({
      reason: 'crashed',
      message: expect.stringMatching(/exited \(code 3\) while running the task/) as string,
    });
    expect((await o.delegate({ agentType: 'engineer', taskDescription: 'after' })).output).toBe('engineer:after');
    expect(o.agents.processes).toBe(1);
  });

  it('kills a subprocess that hangs past taskTimeout and frees its slot', async () => {
    const { orchestrator: o } = orchestrator({ runner: misbehaving, maxAgents: 1, taskTimeout: 300 });
    const error = await o.delegate({ agentType: 'engineer', taskDescription: 'hang' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      reason: 'timeout',
      message: expect.stringMatching(/no result within 300 ms; the agent process was killed/) as string,
    });
    expect((await o.delegate({ agentType: 'engineer', taskDescription: 'next' })).output).toBe('engineer:next');
  });

  it('passes a runner error back without losing the process', async () => {
    const { orchestrator: o } = orchestrator({ runner: misbehaving, maxAgents: 1 });
    const first = await o.delegate({ agentType: 'engineer', taskDescription: 'ok' });
    await expect(o.delegate({ agentType: 'engineer', taskDescription: 'throw' })).rejects.toMatchObject({
      reason: 'runner-error',
      message: expect.stringMatching(/model quota exceeded/) as string,
    });
    expect((await o.delegate({ agentType: 'engineer', taskDescription: 'ok2' })).pid).toBe(first.pid);
  });

  it('runs at most maxAgents subprocesses and queues the rest', async () => {
    const { orchestrator: o } = orchestrator({ runner: misbehaving, maxAgents: 2 });
    const tasks = Array.from({ length: 5 }, (_, i) => o.delegate({ agentType: 'engineer', taskDescription: `sleep ${50 + i}` }));
    await vi.waitFor(() => {
      expect(o.agents.queued).toBeGreaterThan(0);
    });
    const results = await Promise.all(tasks);
    expect(new Set(results.map((r) => r.pid)).size).toBeLessThanOrEqual(2);
    expect(o.agents).toMatchObject({ processes: 2, queued: 0 });
  });

  it('refuses work after stop and ends its subprocesses', async () => {
    const { orchestrator: o } = orchestrator({ maxAgents: 2 });
    await o.start();
    expect(o.agents.processes).toBe(2);
    await o.stop();
    expect(o.agents.processes).toBe(0);
    await expect(o.delegate({ agentType: 'engineer', taskDescription: 'late' })).rejects.toMatchObject({ reason: 'closed' });
  });
});

describe('invalidation', () => {
  it('invalidateCache drops delegation prompts and the builder entries of one agent or all', async () => {
    const { orchestrator: o, cache } = orchestrator();
    await o.generateAgentPrompt({ agentType: 'engineer', taskDescription: 'a' });
    expect(cache.getMetrics().entryCount).toBe(5); // profile, prefix, task template, task prompt, delegation prompt
    expect(await o.invalidateCache('engineer')).toBe(4); // all but the task template, which is not the agent's
    await o.generateAgentPrompt({ agentType: 'engineer', taskDescription: 'a' });
    expect(await o.invalidateCache()).toBe(5);
  });

  it('drops delegation prompts when a watched profile changes', async () => {
    const { orchestrator: o, builder } = orchestrator();
    const stopWatching = builder.watch();
    try {
      expect((await o.generateAgentPrompt({ agentType: 'engineer', taskDescription: 'a' })).text).toContain('You build things');
      await writeFile(
        path.join(projectDir, '.pm/agents/engineer.md'),
        '---\nname: engineer\ndescription: d\n---\nYou now build better things.\n',
      );
      await vi.waitFor(
        async () => {
          expect((await o.generateAgentPrompt({ agentType: 'engineer', taskDescription: 'a' })).text).toContain('better things');
        },
        { timeout: 1000, interval: 5 },
      );
    } finally {
      stopWatching();
    }
  });
});
