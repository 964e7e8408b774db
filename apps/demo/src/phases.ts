import type { CacheMetrics, SharedPromptCache } from '@pm/cache-core';
import type { DelegationRequest, PMOrchestrator } from '@pm/orchestrator';
import type { AgentPromptBuilder } from '@pm/prompt-builder';
import { progress } from './progress.js';
import { cyclic, percentile, zipfSampler } from './workload.js';

/** Samples (ms) of one operation: cold (nothing cached), warm (served from the cache), new task (a known agent, a task never seen). */
export interface Phase {
  cold: number[];
  warm: number[];
  newTask: number[];
}

export interface Operation {
  name: string;
  run: (request: DelegationRequest) => Promise<unknown>;
  phase: Phase;
}

const newPhase = (): Phase => ({ cold: [], warm: [], newTask: [] });

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

export const improvement = ({ cold, warm }: Pick<Phase, 'cold' | 'warm'>): number =>
  (1 - percentile(warm, 50) / percentile(cold, 50)) * 100;

/** The operations the demo measures: a profile load, a task prompt, a delegation prompt. */
export function operations(builder: AgentPromptBuilder, orchestrator: PMOrchestrator): Operation[] {
  return [
    { name: 'profile load', run: (r) => builder.loadAgentProfile(r.agentType), phase: newPhase() },
    {
      name: 'task prompt build',
      run: (r) =>
        builder.buildTaskToolPrompt(r.agentType, {
          task: r.taskDescription,
          requirements: r.requirements ?? [],
          deliverables: r.deliverables ?? [],
          priority: r.priority ?? 'medium',
        }),
      phase: newPhase(),
    },
    { name: 'delegation prompt', run: (r) => orchestrator.generateAgentPrompt(r), phase: newPhase() },
  ];
}

/**
 * Cold: each measured call starts from an empty cache, so it reads and parses the profile and
 * renders the components and the task from disk. Warm: every prompt built once, then requests
 * drawn with Zipf-like repetition. New task: a task the cache has never seen, for an agent whose
 * profile and prefix are cached: it costs the suffix only.
 */
export async function measure(
  cache: SharedPromptCache,
  ops: Operation[],
  requests: DelegationRequest[],
  newTasks: DelegationRequest[],
  warmRequests: number,
): Promise<CacheMetrics> {
  const coldBar = progress('cold: building from disk', requests.length);
  for (const request of requests) {
    for (const { run, phase } of ops) {
      await cache.clear();
      phase.cold.push(await timed(() => run(request)));
    }
    coldBar.tick();
  }
  coldBar.done();

  await cache.clear();
  for (const request of requests) for (const { run } of ops) await run(request);
  cache.resetMetrics();
  const draw = zipfSampler(requests.length);
  const warmBar = progress('warm: Zipf requests', warmRequests);
  for (let i = 0; i < warmRequests; i++) {
    const request = cyclic(requests, draw());
    for (const { run, phase } of ops) phase.warm.push(await timed(() => run(request)));
    warmBar.tick();
  }
  warmBar.done();
  const warm = cache.getMetrics();

  for (const request of newTasks) for (const { run, phase } of ops) phase.newTask.push(await timed(() => run(request)));
  return warm;
}

/** The time from delegate() to the prompt being in the agent subprocess's hands, cold and warm. */
export async function measureDelegation(
  cache: SharedPromptCache,
  orchestrator: PMOrchestrator,
  delegated: DelegationRequest[],
): Promise<Phase> {
  const phase = newPhase();
  const bar = progress('delegating to subprocesses', delegated.length * 2);
  for (const request of delegated) {
    await cache.clear();
    phase.cold.push((await orchestrator.delegate(request)).promptReadyMs);
    bar.tick();
  }
  // The cold loop left only its last prompt cached: build them all once, then measure warm.
  for (const request of delegated) await orchestrator.generateAgentPrompt(request);
  for (const request of delegated) {
    phase.warm.push((await orchestrator.delegate(request)).promptReadyMs);
    bar.tick();
  }
  bar.done();
  return phase;
}
