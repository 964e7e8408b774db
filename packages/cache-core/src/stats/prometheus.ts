import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { CacheMetrics, NamespaceMetrics } from '../types.js';
import { scrapedMetric } from './prometheus-series.js';
import { registerTierMetrics } from './prometheus-tiers.js';

/** What the exporter reads at scrape time (a `SharedPromptCache` fits). */
export interface MetricsSource {
  getMetrics(): CacheMetrics;
}

export interface CacheMetricsExporterOptions {
  /** Registry to register into (the one your `/metrics` endpoint serves). @default a new Registry */
  registry?: Registry;
  /** Metric name prefix. @default 'pm_cache_' */
  prefix?: string;
  /** Value of the `cache` label, to tell several caches apart. @default 'shared_prompt_cache' */
  cacheName?: string;
}

export interface CacheMetricsExporter {
  readonly registry: Registry;
  /** Removes this exporter's metrics from the registry. */
  unregister(): void;
}

type NamespaceField = keyof Pick<NamespaceMetrics, 'hits' | 'misses' | 'evictions' | 'entryCount' | 'sizeBytes'>;
type TotalField = keyof Pick<CacheMetrics, 'sets' | 'deletes' | 'invalidations' | 'expiredRemovals' | 'callbackErrors'>;

/**
 * Exposes a cache's metrics in Prometheus format through `prom-client`. Values are read from
 * `cache.getMetrics()` at scrape time, so the hot path pays nothing for the export.
 */
export function exportCacheMetrics(cache: MetricsSource, options: CacheMetricsExporterOptions = {}): CacheMetricsExporter {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'pm_cache_';
  const cacheLabel = { cache: options.cacheName ?? 'shared_prompt_cache' };
  const read = (): CacheMetrics => cache.getMetrics();
  const metrics: Metric[] = [];

  const perNamespace = (name: string, help: string, field: NamespaceField, kind: 'counter' | 'gauge'): void => {
    const config = {
      name: prefix + name,
      help,
      labelNames: ['cache', 'namespace'] as const,
      registers: [registry],
    };
    metrics.push(
      scrapedMetric(kind, config, () =>
        Object.entries(read().namespaces).map(([namespace, stats]) => [{ ...cacheLabel, namespace }, stats[field]]),
      ),
    );
  };
  const total = (name: string, help: string, field: TotalField): void => {
    metrics.push(
      new Counter({
        name: prefix + name,
        help,
        labelNames: ['cache'] as const,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(cacheLabel, read()[field]);
        },
      }),
    );
  };
  const gauge = (name: string, help: string, value: (m: CacheMetrics) => number): void => {
    metrics.push(
      new Gauge({
        name: prefix + name,
        help,
        labelNames: ['cache'] as const,
        registers: [registry],
        collect() {
          this.set(cacheLabel, value(read()));
        },
      }),
    );
  };

  perNamespace('hits_total', 'Cache hits', 'hits', 'counter');
  perNamespace('misses_total', 'Cache misses', 'misses', 'counter');
  perNamespace('evictions_total', 'Entries evicted to respect the limits', 'evictions', 'counter');
  perNamespace('entries', 'Entries held in L1', 'entryCount', 'gauge');
  perNamespace('size_bytes', 'Bytes accounted in L1', 'sizeBytes', 'gauge');
  total('sets_total', 'Writes', 'sets');
  total('deletes_total', 'Deletes of existing keys', 'deletes');
  total('invalidations_total', 'Entries removed by invalidate()', 'invalidations');
  total('expired_removals_total', 'Expired entries removed', 'expiredRemovals');
  total('callback_errors_total', 'Invalidation callbacks that threw', 'callbackErrors');
  gauge('hit_ratio', 'hits / (hits + misses) since start or the last reset', (m) => m.hitRate);
  gauge('max_bytes', 'Byte budget of L1', (m) => m.maxMemoryMb * 1024 * 1024);
  gauge('max_entries', 'Entry limit of L1', (m) => m.maxEntries);
  gauge('memory_usage_ratio', 'Share of the byte budget in use', (m) => m.memoryUsagePercent / 100);
  metrics.push(...registerTierMetrics(read, registry, prefix, cacheLabel));

  return {
    registry,
    unregister() {
      for (const metric of metrics) registry.removeSingleMetric((metric as unknown as { name: string }).name);
    },
  };
}
