import { Latencies, type LatencyOperation, type LatencyTier } from './latency.js';
import { NamespaceRegistry, type NamespaceStats } from './namespace-stats.js';

/** The cache's own counters (L1); every count goes through `CacheStats`, none lives in control flow. */
export interface CacheCounters {
  hits: number;
  misses: number;
  sets: number;
  deletes: number;
  invalidations: number;
  evictions: number;
  expiredRemovals: number;
  callbackErrors: number;
  /** Computed values returned but not cached (too large for the budget). */
  uncacheable: number;
}

const zeroCounters = (): CacheCounters => ({
  hits: 0,
  misses: 0,
  sets: 0,
  deletes: 0,
  invalidations: 0,
  evictions: 0,
  expiredRemovals: 0,
  callbackErrors: 0,
  uncacheable: 0,
});

/**
 * Counting, overall and per namespace. With metrics disabled every method is a no-op, so the
 * hot path pays one branch.
 *
 * L1 hits are the exception: a read moves only its entry's access count, and L1 adds the hits
 * taken since (by entries held or gone) to the counters when they are read ({@link settle}).
 * Counting each hit here cost a `getSync` ~10% (two objects written per read).
 */
export class CacheStats {
  readonly enabled: boolean;
  readonly namespaces = new NamespaceRegistry();
  readonly latency = new Latencies();
  counters = zeroCounters();
  #settlePendingHits: () => void = () => undefined;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  /** `count` hits in `namespace` (one, or several an L1 entry took since last counted). */
  hit(namespace: NamespaceStats, count = 1): void {
    if (!this.enabled) return;
    this.counters.hits += count;
    namespace.hits += count;
  }

  /** Where hits counted elsewhere (L1's entries) come from: `settle` calls `hit` for them. */
  settleHitsWith(settle: () => void): void {
    this.#settlePendingHits = settle;
  }

  /** Brings in the hits counted elsewhere; the counters and the namespaces' stats are then complete. */
  settle(): void {
    if (this.enabled) this.#settlePendingHits();
  }

  miss(key: string): void {
    if (!this.enabled) return;
    this.counters.misses++;
    this.namespaces.forKey(key).misses++;
  }

  /** A write (the hottest counter after hits: a method of its own, no keyed access). */
  set(): void {
    if (this.enabled) this.counters.sets++;
  }

  evicted(namespace: NamespaceStats): void {
    if (!this.enabled) return;
    this.counters.evictions++;
    namespace.evictions++;
  }

  count(counter: Exclude<keyof CacheCounters, 'hits' | 'misses' | 'evictions'>, by = 1): void {
    if (this.enabled) this.counters[counter] += by;
  }

  /** A timed operation, for the latency histograms. */
  observe(tier: LatencyTier, operation: LatencyOperation, seconds: number): void {
    if (this.enabled) this.latency.observe(tier, operation, seconds);
  }

  /** `observe` for one tier, as a function to hand to that tier. */
  observer(tier: LatencyTier): (operation: LatencyOperation, seconds: number) => void {
    return (operation, seconds) => {
      this.observe(tier, operation, seconds);
    };
  }

  /** A throwing invalidation callback is counted even with metrics off: it is an error, not a statistic. */
  callbackFailed(): void {
    this.counters.callbackErrors++;
  }

  /** Zeroes the counters (not the occupancy figures). */
  reset(): void {
    this.settle();
    this.counters = zeroCounters();
    for (const stats of this.namespaces.all()) {
      stats.hits = 0;
      stats.misses = 0;
      stats.evictions = 0;
    }
  }
}
