import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { makeCacheKey, registerCacheService, resolveCacheConfig, SHARED_PROMPT_CACHE, type SharedPromptCache } from '@pm/cache-core';
import { ServiceManager } from '@pm/service-manager';
import { assemblePrompt, type AssembledPrompt } from './prompt-assembly.js';
import { AGENTS, cyclic, makeContexts, percentile, zipfSampler } from './workload.js';

const USAGE = `usage: pnpm demo [--contexts N] [--requests N] [--json]

  --contexts N   task contexts per agent (default 50)
  --requests N   requests in the warm phase (default 3000)
  --json         print one JSON summary object as the last line`;

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
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    contexts: positiveInt('contexts', values.contexts, 50),
    requests: positiveInt('requests', values.requests, 3000),
    json: values.json,
  };
}

const ms = (ns: bigint) => Number(ns) / 1e6;
const fmt = (value: number) => (value >= 1 ? `${value.toFixed(2)} ms` : `${(value * 1000).toFixed(1)} µs`);

async function main(): Promise<void> {
  const options = parseCli();
  const agentsDir = fileURLToPath(new URL('../agents', import.meta.url));
  const serviceManager = new ServiceManager();
  registerCacheService(serviceManager, { ...resolveCacheConfig(), namespaces: { task_prompt: { ttl: '10m' } } });
  const startup = await serviceManager.startAll();
  const cache = serviceManager.container.resolve<SharedPromptCache>(SHARED_PROMPT_CACHE);

  const contexts = makeContexts(options.contexts);
  const pairs = AGENTS.flatMap((agent) => contexts.map((context) => ({ agent, context, key: `task_prompt:${agent}:${makeCacheKey(context)}` })));
  const build = async (pair: (typeof pairs)[number]): Promise<AssembledPrompt> =>
    cache.getOrCompute(pair.key, () => assemblePrompt(agentsDir, pair.agent, pair.context));

  // Cold: an empty cache, every prompt assembled from disk once.
  const cold: number[] = [];
  for (const pair of pairs) {
    const start = process.hrtime.bigint();
    await build(pair);
    cold.push(ms(process.hrtime.bigint() - start));
  }
  // Warm: Zipf-distributed requests over the same prompts, served from the cache.
  cache.resetMetrics();
  const draw = zipfSampler(pairs.length);
  const warm: number[] = [];
  for (let i = 0; i < options.requests; i++) {
    const pair = cyclic(pairs, draw());
    const start = process.hrtime.bigint();
    await build(pair);
    warm.push(ms(process.hrtime.bigint() - start));
  }

  const metrics = cache.getMetrics();
  const health = await serviceManager.health();
  await serviceManager.stopAll();
  const coldMs = percentile(cold, 50);
  const warmMs = percentile(warm, 50);
  const improvementPercent = (1 - warmMs / coldMs) * 100;

  console.log(`\n@pm demo: ${AGENTS.length} agents × ${options.contexts} task contexts, ${options.requests} warm requests (Zipf)`);
  console.log(`services ${startup.status}: ${Object.entries(startup.startupTimes).map(([name, t]) => `${name} started in ${fmt(t)}`).join(', ')}\n`);
  console.table({
    'task prompt build': {
      'cold p50': fmt(coldMs),
      'cold p95': fmt(percentile(cold, 95)),
      'warm p50': fmt(warmMs),
      'warm p95': fmt(percentile(warm, 95)),
      improvement: `${improvementPercent.toFixed(1)}%`,
    },
  });
  console.table({
    cache: {
      'hit rate': `${(metrics.hitRate * 100).toFixed(1)}%`,
      entries: metrics.entryCount,
      memory: `${metrics.sizeMb.toFixed(2)} MB of ${metrics.maxMemoryMb} MB`,
      evictions: metrics.evictions,
      health: health.status,
    },
  });
  if (options.json) {
    console.log(JSON.stringify({ improvementPercent, hitRate: metrics.hitRate, coldMs, warmMs, entries: metrics.entryCount, evictions: metrics.evictions, health: health.status }));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
