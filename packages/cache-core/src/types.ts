import type { Duration } from './duration.js';
import type { BusMetrics } from './tiers/bus-tier.js';
import type { LockWaitMetrics, ReplayMetrics } from './tiers/shared-tiers.js';
import type { TierMetrics } from './tiers/store-tier.js';

/** Per-call write options. */
export interface SetOptions {
  /** Overrides the namespace's and the default TTL. */
  ttl?: Duration;
  /** Free-form data kept with the entry and shown by `getCacheInfo()`. */
  metadata?: Record<string, unknown>;
  /** Tags for `invalidateTags()`: what the entry was built from (a file, a profile). */
  tags?: readonly string[];
}

export interface GetOrComputeOptions<T = unknown> {
  ttl?: Duration;
  /**
   * Stale-if-error window: when `compute` fails, a value written by `getOrCompute` that expired
   * less than `grace` ago is returned instead of the error (and the failure is logged).
   */
  grace?: Duration;
  /**
   * Tags for `invalidateTags()`, or a function deriving them from the computed value (the files a
   * prompt was built from are known once it is built). With a function, any tag invalidation
   * during the compute keeps its result out of the cache.
   */
  tags?: readonly string[] | ((value: T) => readonly string[]);
}

export interface MsetEntry {
  key: string;
  value: unknown;
  ttl?: Duration;
  tags?: readonly string[];
}

export interface WarmItem {
  key: string;
  load: () => unknown;
  ttl?: Duration;
  tags?: readonly string[];
}

export interface WarmOptions {
  /** Loads running at once. @default 8 */
  concurrency?: number;
  /** Called after each item, loaded or failed. */
  onProgress?: (done: number, total: number) => void;
}

/** What an invalidation callback receives. */
export interface InvalidationEvent {
  /** The pattern passed to `invalidate()`; `''` for `invalidateTags()` (see `tags`). */
  pattern: string;
  /** The tags passed to `invalidateTags()`, for a tag invalidation. */
  tags?: string[];
  /** The keys removed from L1. */
  keys: string[];
  count: number;
  /** `'remote'` when the invalidation came from another process over the bus. */
  source: 'local' | 'remote';
}

/** May be async; a rejection is handled like a throw. */
export type InvalidationCallback = (event: InvalidationEvent) => void | Promise<void>;

export interface NamespaceMetrics {
  hits: number;
  misses: number;
  hitRate: number;
  evictions: number;
  entryCount: number;
  sizeBytes: number;
}

/** A snapshot of the cache's counters and occupancy. */
export interface CacheMetrics {
  hits: number;
  misses: number;
  /** hits / (hits + misses); 0 before any request. */
  hitRate: number;
  missRate: number;
  sets: number;
  /** Deletes of keys that existed. */
  deletes: number;
  /** Entries removed by `invalidate()`. */
  invalidations: number;
  /** Entries removed to respect `maxEntries` / `maxMemoryMb`, by `evictOldest` or memory pressure. */
  evictions: number;
  /** Expired entries removed, on read or by cleanup. */
  expiredRemovals: number;
  /** Invalidation callbacks that threw. */
  callbackErrors: number;
  /** Computed values returned but not cached, being larger than the whole byte budget. */
  uncacheable: number;
  entryCount: number;
  sizeBytes: number;
  sizeMb: number;
  maxEntries: number;
  maxMemoryMb: number;
  memoryUsagePercent: number;
  /** True when more than 80% of the byte budget is in use. */
  memoryPressure: boolean;
  /** Per namespace (text before the first `:`); `(none)` holds keys without one. */
  namespaces: Record<string, NamespaceMetrics>;
  /** With an L2 store: its hits, misses, errors, skipped calls (circuit open), corruptions, availability and outage replays. */
  l2?: TierMetrics & { replay: ReplayMetrics; locks: LockWaitMetrics };
  /** With a bus: connection, messages and resyncs. */
  bus?: BusMetrics;
  /**
   * Get and set latency per tier (L1 sampled, one call in 256; L2 every call), as histograms over
   * `LATENCY_BUCKETS_SECONDS`: `buckets[i]` counts observations up to bound i (cumulative; the
   * last is +Inf).
   */
  latency: LatencyMetrics[];
}

export interface LatencyMetrics {
  tier: 'l1' | 'l2';
  operation: 'get' | 'set';
  buckets: number[];
  sumSeconds: number;
  count: number;
}

export interface CacheEntryInfo {
  key: string;
  ageMs: number;
  accessCount: number;
  sizeBytes: number;
  /** Infinity for entries that never expire. */
  ttlMs: number;
  metadata: Record<string, unknown>;
}

export interface CacheInfo {
  totalEntries: number;
  totalSizeBytes: number;
  /** Most recently used first. */
  entries: CacheEntryInfo[];
}

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface HealthReport {
  status: HealthStatus;
  checks: Record<string, boolean>;
  message: string;
  /** ISO-8601. */
  timestamp: string;
}

export type MemoryPressureSeverity = 'warning' | 'critical';

/** Which entry leaves a full L1: least recently used, or W-TinyLFU (a frequency sketch in front of the LRU). */
export type EvictionPolicyName = 'lru' | 'tinylfu';

export interface MemoryPressureResult {
  entriesBefore: number;
  entriesRemoved: number;
  entriesAfter: number;
  bytesFreed: number;
}
