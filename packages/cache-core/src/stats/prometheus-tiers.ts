import type { Metric, Registry } from 'prom-client';
import { INVALIDATION_MESSAGE_TYPES } from '../bus/invalidation-bus.js';
import type { CacheMetrics } from '../types.js';
import { LATENCY_BUCKETS_SECONDS } from './latency.js';
import { scrapedMetric, type Labels, type Series } from './prometheus-series.js';

type Read = () => CacheMetrics;
type L2 = NonNullable<CacheMetrics['l2']>;

/**
 * The per-tier series: hits, misses and errors by tier; latency histograms; L2 circuit state,
 * corruptions and skipped calls; bus messages by direction and type; outage replays; lock waits.
 * Read from `getMetrics()` at scrape time, like the L1 series.
 */
export function registerTierMetrics(read: Read, registry: Registry, prefix: string, cacheLabel: Labels): Metric[] {
  const metrics: Metric[] = [];
  const define = (
    kind: 'counter' | 'gauge',
    name: string,
    help: string,
    labelNames: string[],
    series: (m: CacheMetrics) => Series,
  ): void => {
    const config = { name: prefix + name, help, labelNames: ['cache', ...labelNames], registers: [registry] };
    metrics.push(scrapedMetric(kind, config, () => series(read()).map(([labels, value]) => [{ ...cacheLabel, ...labels }, value])));
  };
  /** A series of the L2 tier, labelled with its store; none without an L2. */
  const ofL2 =
    (series: (l2: L2) => Series) =>
    (m: CacheMetrics): Series =>
      m.l2 === undefined ? [] : series(m.l2).map(([labels, value]) => [{ store: m.l2?.name ?? '', ...labels }, value]);
  const bus = (m: CacheMetrics) => m.bus;

  // L1 answers what it holds; every L1 miss is an L2 request when an L2 is configured.
  define('counter', 'tier_hits_total', 'Reads answered by each tier', ['tier'], (m) => [
    [{ tier: 'l1' }, m.hits - (m.l2?.hits ?? 0)],
    ...(m.l2 === undefined ? [] : ([[{ tier: 'l2' }, m.l2.hits]] as Series)),
  ]);
  define('counter', 'tier_misses_total', 'Reads each tier could not answer', ['tier'], (m) => [
    [{ tier: 'l1' }, m.misses + (m.l2?.hits ?? 0)],
    ...(m.l2 === undefined ? [] : ([[{ tier: 'l2' }, m.l2.misses]] as Series)),
  ]);
  define('counter', 'tier_errors_total', 'Calls to a tier that failed or timed out', ['tier'], (m) => [
    [{ tier: 'l1' }, 0],
    ...(m.l2 === undefined ? [] : ([[{ tier: 'l2' }, m.l2.errors]] as Series)),
  ]);
  metrics.push(latencyHistogram(read, registry, `${prefix}operation_duration_seconds`, cacheLabel));

  define(
    'gauge',
    'l2_circuit_state',
    'Circuit breaker of the L2 tier as a state set: closed (calls go through) or open (skipped, probed every second)',
    ['store', 'state'],
    ofL2((t) => [
      [{ state: 'closed' }, t.available ? 1 : 0],
      [{ state: 'open' }, t.available ? 0 : 1],
    ]),
  );
  define(
    'counter',
    'l2_circuit_trips_total',
    'Times the L2 circuit opened',
    ['store'],
    ofL2((t) => [[{}, t.circuitTrips]]),
  );
  define(
    'counter',
    'l2_skipped_total',
    'L2 calls skipped while the circuit was open',
    ['store'],
    ofL2((t) => [[{}, t.skipped]]),
  );
  define(
    'counter',
    'l2_corruptions_total',
    'L2 records that did not decode (read as misses)',
    ['store'],
    ofL2((t) => [[{}, t.corruptions]]),
  );
  define(
    'gauge',
    'replay_pending',
    'Removals waiting for L2 or the bus to come back',
    ['store'],
    ofL2((t) => [[{}, t.replay.pending]]),
  );
  define(
    'counter',
    'replay_queued_total',
    'Removals queued during an outage',
    ['store'],
    ofL2((t) => [[{}, t.replay.queued]]),
  );
  define(
    'counter',
    'replay_replayed_total',
    'Queued removals carried out once the tiers answered',
    ['store'],
    ofL2((t) => [[{}, t.replay.replayed]]),
  );
  define(
    'counter',
    'replay_dropped_total',
    'Queued removals dropped (collapsed into a clear on overflow, or refused for good)',
    ['store'],
    ofL2((t) => [[{}, t.replay.dropped]]),
  );
  define(
    'counter',
    'lock_waits_total',
    "getOrCompute waits on another process's distributed lock",
    ['store'],
    ofL2((t) => [[{}, t.locks.waits]]),
  );
  define(
    'counter',
    'lock_wait_seconds_total',
    'Time spent in those waits',
    ['store'],
    ofL2((t) => [[{}, t.locks.waitMs / 1000]]),
  );

  define('gauge', 'bus_connected', '1 while the invalidation bus is subscribed', ['bus'], (m) => {
    const b = bus(m);
    return b === undefined ? [] : [[{ bus: b.name }, b.connected ? 1 : 0]];
  });
  define('counter', 'bus_messages_total', 'Invalidation bus messages by direction and type', ['bus', 'direction', 'type'], (m) => {
    const b = bus(m);
    if (b === undefined) return [];
    return INVALIDATION_MESSAGE_TYPES.flatMap((type): Series => [
      [{ bus: b.name, direction: 'published', type }, b.publishedByType[type]],
      [{ bus: b.name, direction: 'received', type }, b.receivedByType[type]],
    ]);
  });
  define('counter', 'bus_errors_total', 'Bus operations that failed', ['bus'], (m) => {
    const b = bus(m);
    return b === undefined ? [] : [[{ bus: b.name }, b.errors]];
  });
  define('counter', 'bus_resyncs_total', 'Times L1 was cleared because bus messages may have been missed', ['bus'], (m) => {
    const b = bus(m);
    return b === undefined ? [] : [[{ bus: b.name }, b.resyncs]];
  });
  return metrics;
}

/**
 * `getMetrics().latency` as one Prometheus histogram (`tier`, `operation` labels). prom-client's
 * Histogram only learns by `observe()`; this metric reports the cache's own buckets as they are.
 */
function latencyHistogram(read: Read, registry: Registry, name: string, cacheLabel: Labels): Metric {
  const help = 'Duration of cache gets and sets per tier (L1 sampled one call in 256; L2 every call)';
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const values: { labels: Labels; value: number; metricName: string }[] = [];
      for (const { tier, operation, buckets, sumSeconds, count } of read().latency) {
        const labels = { ...cacheLabel, tier, operation };
        buckets.forEach((value, i) => {
          const le = i < LATENCY_BUCKETS_SECONDS.length ? String(LATENCY_BUCKETS_SECONDS[i]) : '+Inf';
          values.push({ labels: { ...labels, le }, value, metricName: `${name}_bucket` });
        });
        values.push({ labels, value: sumSeconds, metricName: `${name}_sum` }, { labels, value: count, metricName: `${name}_count` });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
    reset: () => undefined,
  };
  registry.registerMetric(metric as unknown as Metric);
  return metric as unknown as Metric;
}
