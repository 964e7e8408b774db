import type { CacheMetrics } from '@pm/cache-core';
import type { StartReport, SystemHealth } from '@pm/service-manager';
import type { DemoOptions } from './options.js';
import { improvement, type Operation, type Phase } from './phases.js';
import type { LlmFigures } from './llm.js';
import type { WorkerReport } from './workers.js';
import { percentile } from './workload.js';

export interface DemoResults {
  options: DemoOptions;
  agents: string[];
  startup: StartReport;
  ops: Operation[];
  delegation: Phase;
  metrics: CacheMetrics;
  workers: WorkerReport[];
  health: SystemHealth;
  llm: LlmFigures;
}

const fmt = (ms: number) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);
const p50 = (samples: number[]) => percentile(samples, 50);

/** Prints the tables, and with --json one summary object as the last line. */
export function printReport({ options, agents, startup, ops, delegation, metrics, workers, health, llm }: DemoResults): void {
  const rows: Record<string, Record<string, string>> = {};
  for (const { name, phase } of [...ops, { name: 'delegation: prompt ready in child', phase: delegation }]) {
    rows[name] = {
      'cold p50': fmt(p50(phase.cold)),
      'cold p95': fmt(percentile(phase.cold, 95)),
      'warm p50': fmt(p50(phase.warm)),
      'warm p95': fmt(percentile(phase.warm, 95)),
      ...(phase.newTask.length === 0 ? {} : { 'new task p50': fmt(p50(phase.newTask)) }),
      improvement: `${improvement(phase).toFixed(1)}%`,
    };
  }
  console.log(
    `\n@pm demo: ${agents.length} agents × ${options.contexts} task contexts, ${options.requests} Zipf requests, ${options.delegations} delegations per phase${options.agentsDir === undefined ? '' : ` (agents from ${options.agentsDir})`}`,
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
  const { projection, responses } = llm;
  const usd = (dollars: number) => `$${dollars.toFixed(4)}`;
  const perMTok = (dollars: number) => `$${Number(dollars.toFixed(4))}`;
  console.log(
    `\nLLM, over ${projection.calls} delegations (${projection.model}: input ${perMTok(projection.prices.input)}/MTok, cache write ${perMTok(projection.prices.cacheWrite)}, read ${perMTok(projection.prices.cacheRead)}; ${projection.prices.source}):`,
  );
  console.table({
    'provider prompt caching (projection, not a bill)': {
      'tokens per delegation': Math.round(llm.tokensPerDelegation),
      'in the cacheable prefix': `${(projection.cacheableShare * 100).toFixed(1)}%`,
      'input cost without caching': usd(projection.uncachedCost),
      'with the prefix cached': usd(projection.cachedCost),
      'input cost reduction': `${(projection.reduction * 100).toFixed(1)}%`,
    },
  });
  console.table({
    'response cache (AI SDK middleware, stand-in model)': {
      requests: responses.requests,
      'distinct prompts': responses.distinct,
      'model calls': responses.modelCalls,
      'calls saved': responses.requests - responses.modelCalls,
      'hit rate': `${(responses.hitRate * 100).toFixed(1)}%`,
    },
  });
  if (!options.json) return;
  const taskPrompt = ops.find((op) => op.name === 'task prompt build')?.phase ?? delegation;
  console.log(
    JSON.stringify({
      agents: agents.length,
      improvementPercent: improvement(taskPrompt),
      hitRate: metrics.hitRate,
      coldMs: p50(taskPrompt.cold),
      warmMs: p50(taskPrompt.warm),
      newTaskMs: p50(taskPrompt.newTask),
      delegation: { coldMs: p50(delegation.cold), warmMs: p50(delegation.warm), improvementPercent: improvement(delegation) },
      operations: Object.fromEntries(
        ops.map(({ name, phase }) => [name, { coldMs: p50(phase.cold), warmMs: p50(phase.warm), newTaskMs: p50(phase.newTask) }]),
      ),
      entries: metrics.entryCount,
      evictions: metrics.evictions,
      memoryMb: metrics.sizeMb,
      store: options.store,
      workers,
      health: health.status,
      llm: {
        delegations: projection.calls,
        tokensPerDelegation: llm.tokensPerDelegation,
        cacheableShare: projection.cacheableShare,
        projectedInputCostReduction: projection.reduction,
        prices: { model: projection.model, ...projection.prices },
        responseCache: responses,
      },
    }),
  );
}
