import type { SharedTiers } from '../tiers/shared-tiers.js';
import type { CacheMetrics, HealthReport, NamespaceMetrics } from '../types.js';
import type { CacheStats } from './counters.js';

/** Above this share of the byte budget `memoryPressure` is true. */
export const PRESSURE_PERCENT = 80;
/** Above this share of the byte budget the cache reports itself degraded. */
export const DEGRADED_PERCENT = 90;

const rate = (part: number, whole: number): number => (whole === 0 ? 0 : part / whole);

export interface Occupancy {
  readonly entryCount: number;
  readonly sizeBytes: number;
  readonly maxEntries: number;
  readonly maxMemoryMb: number;
  readonly maxBytes: number;
}

/** The `getMetrics()` snapshot: counters, occupancy, namespaces, and the tiers when configured. */
export function metricsSnapshot(stats: CacheStats, occupancy: Occupancy, tiers: SharedTiers | undefined): CacheMetrics {
  stats.settle();
  const { hits, misses } = stats.counters;
  const memoryUsagePercent = (occupancy.sizeBytes / occupancy.maxBytes) * 100;
  const namespaces: Record<string, NamespaceMetrics> = {};
  for (const ns of stats.namespaces.all()) {
    if (ns.entryCount === 0 && ns.hits === 0 && ns.misses === 0 && ns.evictions === 0) continue;
    namespaces[ns.name] = {
      hits: ns.hits,
      misses: ns.misses,
      hitRate: rate(ns.hits, ns.hits + ns.misses),
      evictions: ns.evictions,
      entryCount: ns.entryCount,
      sizeBytes: ns.sizeBytes,
    };
  }
  const l2 = tiers?.l2Metrics();
  const bus = tiers?.busMetrics();
  return {
    ...stats.counters,
    hitRate: rate(hits, hits + misses),
    missRate: rate(misses, hits + misses),
    entryCount: occupancy.entryCount,
    sizeBytes: occupancy.sizeBytes,
    sizeMb: occupancy.sizeBytes / (1024 * 1024),
    maxEntries: occupancy.maxEntries,
    maxMemoryMb: occupancy.maxMemoryMb,
    memoryUsagePercent,
    memoryPressure: memoryUsagePercent > PRESSURE_PERCENT,
    namespaces,
    ...(l2 === undefined ? {} : { l2 }),
    ...(bus === undefined ? {} : { bus }),
    latency: [...stats.latency.entries()].map(({ tier, operation, histogram }) => {
      let running = 0;
      return {
        tier,
        operation,
        buckets: [...histogram.counts].map((n) => (running += n)),
        sumSeconds: histogram.sum,
        count: histogram.count,
      };
    }),
  };
}

/**
 * `unhealthy` when not started or when L1's accounting is inconsistent; `degraded` when a
 * configured tier is unreachable, refuses writes or is recovering, or more than 90% of the byte
 * budget is used; else `healthy`. Reads no counters and moves none.
 */
export async function healthReport(
  started: boolean,
  l1Consistent: boolean,
  occupancy: Occupancy,
  tiers: SharedTiers | undefined,
): Promise<HealthReport> {
  const checks: Record<string, boolean> = {
    started,
    l1: l1Consistent,
    memory: (occupancy.sizeBytes / occupancy.maxBytes) * 100 <= DEGRADED_PERCENT,
  };
  const tierHealth = (await tiers?.health()) ?? {};
  if (tierHealth.l2 !== undefined) checks.l2 = tierHealth.l2.ok;
  if (tierHealth.bus !== undefined) checks.bus = tierHealth.bus.ok;
  const problems = [tierHealth.l2?.problem, tierHealth.bus?.problem].filter((p): p is string => p !== undefined);
  let status: HealthReport['status'] = 'healthy';
  let message = 'cache is healthy';
  if (!started) {
    status = 'unhealthy';
    message = 'cache is not started';
  } else if (!l1Consistent) {
    status = 'unhealthy';
    message = 'L1 accounting is inconsistent';
  } else if (problems.length > 0) {
    status = 'degraded';
    message = `serving from L1: ${problems.join('; ')}`;
  } else if (!checks.memory) {
    status = 'degraded';
    message = `memory usage above ${DEGRADED_PERCENT}% of the budget`;
  }
  return { status, checks, message, timestamp: new Date().toISOString() };
}
