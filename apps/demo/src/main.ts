import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  registerCacheService,
  resolveCacheConfig,
  SHARED_PROMPT_CACHE,
  type SharedPromptCache,
  type SharedPromptCacheOptions,
} from '@pm/cache-core';
import { ORCHESTRATOR_SERVICE_NAME, registerOrchestrator, type DelegationRequest, type PMOrchestrator } from '@pm/orchestrator';
import { AgentPromptBuilder, registerPromptBuilder } from '@pm/prompt-builder';
import { ServiceManager } from '@pm/service-manager';
import { parseOptions, USAGE, type DemoOptions } from './options.js';
import { measure, measureDelegation, operations } from './phases.js';
import { llmFigures } from './llm.js';
import { printReport } from './report.js';
import { serveUntilStopped, steadyWorkload } from './serve.js';
import { runAsWorker, runWorkers } from './workers.js';
import { AGENTS, cyclic, makeTasks } from './workload.js';

/** The cache's shared tiers for the chosen store (loaded only when asked for). */
async function tiers(options: DemoOptions): Promise<Pick<SharedPromptCacheOptions, 'l2' | 'bus'>> {
  if (options.store === 'file') {
    const { FileStore } = await import('@pm/cache-core/file');
    return { l2: new FileStore({ dir: path.resolve(options.dir) }) };
  }
  if (options.store === 'redis') {
    const { RedisInvalidationBus, RedisStore } = await import('@pm/cache-core/redis');
    return { l2: new RedisStore({ url: options.redisUrl }), bus: new RedisInvalidationBus({ url: options.redisUrl }) };
  }
  return {};
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const projectDir = fileURLToPath(new URL('..', import.meta.url));

  // The composition root: every part is a service, wired by DI, started in dependency order.
  const serviceManager = new ServiceManager();
  registerCacheService(
    serviceManager,
    { ...resolveCacheConfig(), maxEntries: 5000, ...(await tiers(options)) },
    // Serving, the dashboard's health column should follow an outage within seconds.
    options.serve ? { healthCheckInterval: '2s' } : {},
  );
  registerPromptBuilder(serviceManager, {
    projectDir,
    userDir: homedir(),
    watch: options.worker === undefined,
    ...(options.agentsDir === undefined ? {} : { agentDirs: [options.agentsDir] }),
  });
  registerOrchestrator(serviceManager, { maxAgents: options.worker === undefined ? 2 : 1 });
  const startup = await serviceManager.startAll();
  const cache = serviceManager.container.resolve<SharedPromptCache>(SHARED_PROMPT_CACHE);
  const builder = serviceManager.container.resolve(AgentPromptBuilder);
  const orchestrator = serviceManager.get<PMOrchestrator>(ORCHESTRATOR_SERVICE_NAME);

  try {
    const agents =
      options.agentsDir === undefined ? [...AGENTS] : (await builder.listAgents()).filter((a) => a.tier === 'custom').map((a) => a.name);
    if (agents.length === 0) throw new Error(`no agent definitions found in ${options.agentsDir ?? 'the demo'}`);
    const tasks = makeTasks(options.contexts);
    const requests: DelegationRequest[] = agents.flatMap((agentType) => tasks.map((task) => ({ agentType, ...task })));
    if (options.worker !== undefined) {
      await runAsWorker(Number(options.worker), cache, orchestrator, requests, options);
      return;
    }
    const ops = operations(builder, orchestrator);
    const fresh = makeTasks(options.contexts + 20).slice(options.contexts);
    const newTasks = agents.flatMap((agentType, i) => [{ agentType, ...cyclic(fresh, i) }]);
    const metrics = await measure(cache, ops, requests, newTasks, options.requests);
    // Now that every prompt is in the shared store, other processes should build none of them.
    const workers = options.workers > 1 ? await runWorkers(options) : undefined;
    try {
      const delegated = Array.from({ length: options.delegations }, (_, i) => cyclic(requests, i * 7));
      const delegation = await measureDelegation(cache, orchestrator, delegated);
      const health = await serviceManager.health();
      const llm = await llmFigures(cache, orchestrator, requests, Math.min(options.requests, 1000));
      printReport({ options, agents, startup, ops, delegation, metrics, workers: workers?.reports ?? [], health, llm });
      if (options.serve)
        await serveUntilStopped(
          serviceManager,
          options.port,
          (signal) => steadyWorkload(orchestrator, cache, requests, 7, signal),
          workers?.pids ?? [],
        );
    } finally {
      await workers?.stop();
    }
  } finally {
    await serviceManager.stopAll();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
