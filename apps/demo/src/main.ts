import { fork } from 'node:child_process';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  registerCacheService,
  resolveCacheConfig,
  SHARED_PROMPT_CACHE,
  type SharedPromptCache,
  type SharedPromptCacheOptions,
} from '@pm/cache-core';
import { FileStore } from '@pm/cache-core/file';
import { RedisInvalidationBus, RedisStore } from '@pm/cache-core/redis';
import { ORCHESTRATOR_SERVICE_NAME, registerOrchestrator, type DelegationRequest, type PMOrchestrator } from '@pm/orchestrator';
import { AgentPromptBuilder, registerPromptBuilder } from '@pm/prompt-builder';
import { ServiceManager } from '@pm/service-manager';
import { progress } from './progress.js';
import { AGENTS, cyclic, makeTasks, percentile, zipfSampler } from './workload.js';

const USAGE = `usage: pnpm demo [--contexts N] [--requests N] [--delegations N] [--store memory|file|redis]
                 [--redis-url URL] [--dir DIR] [--workers N] [--json]

  --contexts N     task contexts per agent (default 50)
  --requests N     requests in the warm phase (default 3000)
  --delegations N  tasks handed to agent subprocesses in each phase (default 30)
  --store S        memory (L1 only, default), file (a FileStore shared on this host) or redis
  --redis-url URL  with --store redis (default redis://127.0.0.1:6379)
  --dir DIR        with --store file (default .cache/prompts in the demo directory)
  --workers N      also run N-1 more processes sharing the cache (needs --store file or redis)
  --json           print one JSON summary object as the last line`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

function parseCli() {
  const { values } = parseArgs({
    // `pnpm demo -- --json` forwards the separator itself; it carries no meaning here.
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      contexts: { type: 'string' },
      requests: { type: 'string' },
      delegations: { type: 'string' },
      store: { type: 'string', default: 'memory' },
      'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
      dir: { type: 'string' },
      workers: { type: 'string' },
      worker: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const store = values.store;
  if (store !== 'memory' && store !== 'file' && store !== 'redis')
    throw new Error(`--store must be memory, file or redis, got ${JSON.stringify(store)}`);
  const workers = positiveInt('workers', values.workers, 1);
  if (workers > 1 && store === 'memory') throw new Error('--workers needs a cache the processes can share: --store file or --store redis');
  return {
    contexts: positiveInt('contexts', values.contexts, 50),
    requests: positiveInt('requests', values.requests, 3000),
    delegations: positiveInt('delegations', values.delegations, 30),
    store,
    redisUrl: values['redis-url'],
    dir: values.dir ?? fileURLToPath(new URL('../.cache/prompts', import.meta.url)),
    workers,
    worker: values.worker,
    json: values.json,
  };
}

type Options = ReturnType<typeof parseCli>;

/** The cache's shared tiers for the chosen store. */
function tiers(options: Options): Pick<SharedPromptCacheOptions, 'l2' | 'bus'> {
  if (options.store === 'file') return { l2: new FileStore({ dir: path.resolve(options.dir) }) };
  if (options.store === 'redis')
    return { l2: new RedisStore({ url: options.redisUrl }), bus: new RedisInvalidationBus({ url: options.redisUrl }) };
  return {};
}

/** The command line of a worker process: the same options, one worker's role. */
function workerArgs(options: Options, index: number): string[] {
  return [
    '--worker',
    String(index),
    '--contexts',
    String(options.contexts),
    '--requests',
    String(options.requests),
    '--store',
    options.store,
    '--redis-url',
    options.redisUrl,
    '--dir',
    options.dir,
  ];
}

interface WorkerReport {
  worker: number;
  p50Ms: number;
  hitRate: number;
  l2Hits: number;
  l2Misses: number;
}

/** Milliseconds `work` takes. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

interface Phase {
  cold: number[];
  warm: number[];
}

const fmt = (ms: number) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);
const improvement = ({ cold, warm }: Phase) => (1 - percentile(warm, 50) / percentile(cold, 50)) * 100;

async function main(): Promise<void> {
  const options = parseCli();
  const projectDir = fileURLToPath(new URL('..', import.meta.url));

  // The composition root: every part is a service, wired by DI, started in dependency order.
  const serviceManager = new ServiceManager();
  registerCacheService(serviceManager, { ...resolveCacheConfig(), maxEntries: 5000, ...tiers(options) });
  registerPromptBuilder(serviceManager, { projectDir, userDir: homedir(), watch: options.worker === undefined });
  registerOrchestrator(serviceManager, { maxAgents: options.worker === undefined ? 2 : 1 });
  const startup = await serviceManager.startAll();
  const cache = serviceManager.container.resolve<SharedPromptCache>(SHARED_PROMPT_CACHE);
  const builder = serviceManager.container.resolve(AgentPromptBuilder);
  const orchestrator = serviceManager.get<PMOrchestrator>(ORCHESTRATOR_SERVICE_NAME);

  try {
    const tasks = makeTasks(options.contexts);
    const requests: DelegationRequest[] = AGENTS.flatMap((agentType) => tasks.map((task) => ({ agentType, ...task })));
    if (options.worker !== undefined) {
      await runWorker(Number(options.worker), cache, orchestrator, requests, options);
      return;
    }
    const newPhase = (): Phase => ({ cold: [], warm: [] });
    const taskPrompt = {
      name: 'task prompt build',
      run: (r: DelegationRequest) =>
        builder.buildTaskToolPrompt(r.agentType, {
          task: r.taskDescription,
          requirements: r.requirements ?? [],
          deliverables: r.deliverables ?? [],
          priority: r.priority ?? 'medium',
        }),
      phase: newPhase(),
    };
    const operations = [
      { name: 'profile load', run: (r: DelegationRequest) => builder.loadAgentProfile(r.agentType), phase: newPhase() },
      taskPrompt,
      { name: 'delegation prompt', run: (r: DelegationRequest) => orchestrator.generateAgentPrompt(r), phase: newPhase() },
    ];

    // Cold: nothing cached. Each measured call starts from an empty cache, so it reads and
    // parses the profile, renders the components and the task from disk.
    const coldBar = progress('cold: building from disk', requests.length);
    for (const request of requests) {
      for (const { run, phase } of operations) {
        await cache.clear();
        phase.cold.push(await timed(() => run(request)));
      }
      coldBar.tick();
    }
    coldBar.done();

    // Warm: every prompt built once, then requests drawn with Zipf-like repetition.
    await cache.clear();
    for (const request of requests) await orchestrator.generateAgentPrompt(request);
    cache.resetMetrics();
    const draw = zipfSampler(requests.length);
    const warmBar = progress('warm: Zipf requests', options.requests);
    for (let i = 0; i < options.requests; i++) {
      const request = cyclic(requests, draw());
      for (const { run, phase } of operations) phase.warm.push(await timed(() => run(request)));
      warmBar.tick();
    }
    warmBar.done();
    const metrics = cache.getMetrics();
    // Now that every prompt is in the shared store, other processes should build none of them.
    const workers = options.workers > 1 ? await runWorkers(options) : [];

    // Delegation: the time from delegate() to the prompt being in the agent subprocess's hands.
    const delegation: Phase = { cold: [], warm: [] };
    const delegated = Array.from({ length: options.delegations }, (_, i) => cyclic(requests, i * 7));
    const delegationBar = progress('delegating to subprocesses', delegated.length * 2);
    for (const request of delegated) {
      await cache.clear();
      delegation.cold.push((await orchestrator.delegate(request)).promptReadyMs);
      delegationBar.tick();
    }
    // The cold loop left only its last prompt cached: build them all once, then measure warm.
    for (const request of delegated) await orchestrator.generateAgentPrompt(request);
    for (const request of delegated) {
      delegation.warm.push((await orchestrator.delegate(request)).promptReadyMs);
      delegationBar.tick();
    }
    delegationBar.done();
    const health = await serviceManager.health();

    const rows: Record<string, Record<string, string>> = {};
    for (const { name, phase } of [...operations, { name: 'delegation: prompt ready in child', phase: delegation }]) {
      rows[name] = {
        'cold p50': fmt(percentile(phase.cold, 50)),
        'cold p95': fmt(percentile(phase.cold, 95)),
        'warm p50': fmt(percentile(phase.warm, 50)),
        'warm p95': fmt(percentile(phase.warm, 95)),
        improvement: `${improvement(phase).toFixed(1)}%`,
      };
    }
    console.log(
      `\n@pm demo: ${AGENTS.length} agents × ${options.contexts} task contexts, ${options.requests} Zipf requests, ${options.delegations} delegations per phase`,
    );
    console.log(
      `services ${startup.status}: ${Object.entries(startup.startupTimes)
        .map(([name, t]) => `${name} ${fmt(t)}`)
        .join(', ')}\n`,
    );
    console.table(rows);
    if (workers.length > 0) {
      console.log(`${workers.length} more process(es) sharing the ${options.store} store, each asking for the same prompts (Zipf):`);
      console.table(
        Object.fromEntries(
          workers.map((w) => [
            `worker ${w.worker}`,
            {
              p50: fmt(w.p50Ms),
              'hit rate': `${(w.hitRate * 100).toFixed(1)}%`,
              'from L2 (built by another process)': w.l2Hits,
              'built here': w.l2Misses,
            },
          ]),
        ),
      );
    }
    console.table({
      cache: {
        store: options.store,
        'hit rate (warm)': `${(metrics.hitRate * 100).toFixed(1)}%`,
        entries: metrics.entryCount,
        memory: `${metrics.sizeMb.toFixed(2)} MB of ${metrics.maxMemoryMb} MB`,
        evictions: metrics.evictions,
        health: health.status,
      },
    });
    if (options.json) {
      console.log(
        JSON.stringify({
          improvementPercent: improvement(taskPrompt.phase),
          hitRate: metrics.hitRate,
          coldMs: percentile(taskPrompt.phase.cold, 50),
          warmMs: percentile(taskPrompt.phase.warm, 50),
          delegation: {
            coldMs: percentile(delegation.cold, 50),
            warmMs: percentile(delegation.warm, 50),
            improvementPercent: improvement(delegation),
          },
          operations: Object.fromEntries(
            operations.map(({ name, phase }) => [name, { coldMs: percentile(phase.cold, 50), warmMs: percentile(phase.warm, 50) }]),
          ),
          entries: metrics.entryCount,
          evictions: metrics.evictions,
          memoryMb: metrics.sizeMb,
          store: options.store,
          workers,
          health: health.status,
        }),
      );
    }
  } finally {
    await serviceManager.stopAll();
  }
}

/** A worker process: asks for prompts the main process built, through the shared tier. */
async function runWorker(
  index: number,
  cache: SharedPromptCache,
  orchestrator: PMOrchestrator,
  requests: DelegationRequest[],
  options: Options,
): Promise<void> {
  cache.resetMetrics();
  const draw = zipfSampler(requests.length, 1.1, 42 + index);
  const samples: number[] = [];
  for (let i = 0; i < options.requests; i++) {
    const request = cyclic(requests, draw());
    samples.push(await timed(() => orchestrator.generateAgentPrompt(request)));
  }
  const metrics = cache.getMetrics();
  const report: WorkerReport = {
    worker: index,
    p50Ms: percentile(samples, 50),
    hitRate: metrics.hitRate,
    l2Hits: metrics.l2?.hits ?? 0,
    l2Misses: metrics.l2?.misses ?? 0,
  };
  process.send?.(report);
}

/** Runs the other workers as real processes sharing the store; resolves their reports. */
async function runWorkers(options: Options): Promise<WorkerReport[]> {
  const script = fileURLToPath(import.meta.url);
  const bar = progress(`${options.workers - 1} worker process(es)`, options.workers - 1);
  const reports = await Promise.all(
    Array.from(
      { length: options.workers - 1 },
      (_, i) =>
        new Promise<WorkerReport>((resolve, reject) => {
          let report: WorkerReport | undefined;
          const child = fork(script, workerArgs(options, i + 1), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
          child.on('message', (message: WorkerReport) => {
            report = message;
          });
          child.on('exit', (code) => {
            bar.tick();
            if (report !== undefined && code === 0) resolve(report);
            else reject(new Error(`worker ${i + 1} exited with code ${String(code)}`));
          });
        }),
    ),
  );
  bar.done();
  return reports;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
