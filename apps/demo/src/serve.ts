import type { SharedPromptCache } from '@pm/cache-core';
import type { DelegationRequest, PMOrchestrator } from '@pm/orchestrator';
import { escapePattern } from '@pm/cache-core';
import { serveHealth, type ServiceManager } from '@pm/service-manager';
import { cyclic, zipfSampler } from './workload.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Keeps a process busy the way a long-running orchestrator is: prompts asked for with Zipf-like
 * repetition, and now and then an agent's delegation prompts invalidated (as an edited profile
 * would), until `signal` aborts. Errors are counted, never thrown: the cache keeps serving.
 */
export async function steadyWorkload(
  orchestrator: PMOrchestrator,
  cache: SharedPromptCache,
  requests: readonly DelegationRequest[],
  seed: number,
  signal: AbortSignal,
): Promise<{ requests: number; errors: number }> {
  const draw = zipfSampler(requests.length, 1.1, seed);
  const agents = [...new Set(requests.map((r) => r.agentType))];
  let done = 0;
  let errors = 0;
  while (!signal.aborted) {
    try {
      await orchestrator.generateAgentPrompt(cyclic(requests, draw()));
      if (++done % 200 === 0) await cache.invalidate(`delegation_prompt:${escapePattern(cyclic(agents, done / 200))}:*`);
    } catch {
      errors++;
    }
    await sleep(5);
  }
  return { requests: done, errors };
}

/** `--serve`: the probes, /metrics and /dashboard on 127.0.0.1, until SIGINT or SIGTERM. */
export async function serveUntilStopped(
  serviceManager: ServiceManager,
  port: number,
  work: (signal: AbortSignal) => Promise<unknown>,
  workers: readonly number[],
): Promise<void> {
  const server = await serveHealth(serviceManager, { port });
  console.log(`dashboard: ${server.url}/dashboard`);
  console.log(`metrics:   ${server.url}/metrics`);
  console.log(`serving:   ${1 + workers.length} process(es) (pids ${[process.pid, ...workers].join(', ')}); Ctrl-C to stop`);
  const stop = new AbortController();
  const stopped = new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      stop.abort();
      resolve();
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
  const working = work(stop.signal);
  await stopped;
  await working;
  await server.close();
}
