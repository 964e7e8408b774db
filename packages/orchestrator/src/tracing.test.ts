import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SharedPromptCache } from '@pm/cache-core';
import { AgentPromptBuilder } from '@pm/prompt-builder';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PMOrchestrator } from './pm-orchestrator.js';

const exporter = new InMemorySpanExporter();
let projectDir: string;
beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  projectDir = await mkdtemp(path.join(tmpdir(), 'pm-orch-trace-'));
  await mkdir(path.join(projectDir, '.pm/agents'), { recursive: true });
  await writeFile(
    path.join(projectDir, '.pm/agents/engineer.md'),
    '---\nname: engineer\ndescription: Builds things\n---\nYou build things.\n',
  );
});
afterAll(async () => {
  trace.disable();
  context.disable();
  await rm(projectDir, { recursive: true, force: true });
});

it('traces a delegation as invoke_agent, with the prompt build and the cache calls inside it', async () => {
  const cache = new SharedPromptCache();
  const builder = new AgentPromptBuilder({ projectDir, userDir: projectDir, cache });
  const orchestrator = new PMOrchestrator({ builder, cache });
  try {
    await orchestrator.delegate({ agentType: 'engineer', taskDescription: 'Implement auth' });
  } finally {
    await orchestrator.stop();
  }
  const spans = exporter.getFinishedSpans();
  const delegation = spans.find((s) => s.name === 'invoke_agent engineer')!;
  expect(delegation.attributes).toMatchObject({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'engineer' });
  expect(delegation.attributes['agent.pid']).toEqual(expect.any(Number));
  const build = spans.find((s) => s.name === 'prompt.build')!;
  expect(build.attributes['gen_ai.agent.name']).toBe('engineer');
  expect(build.attributes['prompt.tokens']).toBeGreaterThan(0);
  // Every span of the delegation belongs to its trace: the build, and the cache lookups around it.
  const inTrace = spans.filter((s) => s.spanContext().traceId === delegation.spanContext().traceId).map((s) => s.name);
  expect(inTrace).toEqual(expect.arrayContaining(['invoke_agent engineer', 'prompt.build', 'cache.getOrCompute']));
});
