import { LRUCache } from 'lru-cache';
import { CoarseClock } from './coarse-clock.js';
import { resolveOptions, type ResolvedCacheOptions, type SharedPromptCacheOptions } from './config.js';
import { parseDuration, type Duration } from './duration.js';
import { CacheConfigError, CacheEntryTooLargeError, CacheError, CacheKeyError, CacheSerializationError } from './errors.js';
import { assertKey } from './keys.js';
import type { Logger } from '@pm/service-manager/contract';
import { NamespacedCache } from './namespaced-cache.js';
import { NamespaceRegistry, type NamespaceStats } from './namespace-stats.js';
import { compilePattern, type KeyPattern } from './pattern.js';
import { ENTRY_OVERHEAD_BYTES, measureValue, utf8Bytes } from './size.js';
import type {
  CacheInfo,
  CacheMetrics,
  GetOrComputeOptions,
  HealthReport,
  InvalidationCallback,
  InvalidationEvent,
  MemoryPressureResult,
  MemoryPressureSeverity,
  MsetEntry,
  NamespaceMetrics,
  SetOptions,
  WarmItem,
  WarmOptions,
} from './types.js';

interface Entry {
  readonly value: unknown;
  /** Accounted bytes: value, metadata, key and bookkeeping. */
  readonly size: number;
  readonly createdAt: number;
  readonly ttlMs: number;
  readonly expiresAt: number;
  /** Until when an expired entry is kept for stale-if-error (`grace`); equals expiresAt without grace. */
  readonly staleUntil: number;
  readonly metadata: Record<string, unknown> | undefined;
  readonly stats: NamespaceStats;
  readonly isPrompt: boolean;
  accessCount: number;
}

/** A validated write, ready to commit: `mset` prepares every entry before committing any. */
interface PreparedWrite {
  readonly key: string;
  readonly entry: Entry;
}

interface Flight {
  promise: Promise<unknown>;
  /** Set when the key is deleted or invalidated mid-compute: the result must not be cached. */
  superseded: boolean;
}

interface Subscription {
  readonly pattern: string;
  readonly matcher: KeyPattern;
  readonly callback: InvalidationCallback;
}

interface Counters {
  hits: number;
  misses: number;
  sets: number;
  deletes: number;
  invalidations: number;
  evictions: number;
  expiredRemovals: number;
  callbackErrors: number;
}

const zeroCounters = (): Counters => ({
  hits: 0,
  misses: 0,
  sets: 0,
  deletes: 0,
  invalidations: 0,
  evictions: 0,
  expiredRemovals: 0,
  callbackErrors: 0,
});

/** Share of the byte budget kept by `handleMemoryPressure`, per severity. */
const PRESSURE_KEEP_RATIO: Record<MemoryPressureSeverity, number> = { warning: 0.75, critical: 0.25 };
const PRESSURE_PERCENT = 80;
const DEGRADED_PERCENT = 90;
const DEFAULT_WARM_CONCURRENCY = 8;

const rate = (part: number, whole: number): number => (whole === 0 ? 0 : part / whole);

/**
 * The shared prompt cache: an in-process L1 on `lru-cache` with entry and byte limits, TTLs per
 * call, namespace or default, fnmatch-style invalidation with callbacks, single-flight
 * `getOrCompute`, batch operations, warming, metrics and health.
 *
 * `getSync`/`setSync` are the synchronous hot path; the async methods are the same operations
 * behind a promise, the shape shared tiers plug into.
 *
 * Values are held by reference, as `lru-cache` holds them: do not mutate a value after caching it.
 */
export class SharedPromptCache {
  static #instance: SharedPromptCache | undefined;

  readonly #options: ResolvedCacheOptions;
  readonly #log: Logger;
  readonly #lru: LRUCache<string, Entry>;
  readonly #namespaces = new NamespaceRegistry();
  readonly #flights = new Map<string, Flight>();
  readonly #subscriptions = new Set<Subscription>();
  readonly #count: boolean;
  readonly #clock = new CoarseClock();
  #counters = zeroCounters();
  #cleanupTimer: NodeJS.Timeout | undefined;
  #started = false;

  constructor(options: SharedPromptCacheOptions = {}) {
    this.#options = resolveOptions(options);
    this.#log = this.#options.logger;
    this.#count = this.#options.enableMetrics;
    this.#lru = new LRUCache<string, Entry>({
      max: this.#options.maxEntries,
      maxSize: this.#options.maxBytes,
      sizeCalculation: (entry) => entry.size,
      // Runs synchronously for every removal (overwrite, delete, eviction, clear): keeps the
      // namespace accounting equal to what L1 holds.
      dispose: (entry, key, reason) => {
        const stats = entry.stats;
        stats.entryCount--;
        stats.sizeBytes -= entry.size;
        stats.keys.delete(key);
        if (reason === 'evict' && this.#count) {
          this.#counters.evictions++;
          stats.evictions++;
        }
      },
    });
  }

  /**
   * The process-wide instance, created by the first call. A later call with options that mean
   * a different configuration throws {@link CacheConfigError}; without options it returns the
   * instance as it is.
   */
  static getInstance(options?: SharedPromptCacheOptions): SharedPromptCache {
    const current = SharedPromptCache.#instance;
    if (current === undefined) return (SharedPromptCache.#instance = new SharedPromptCache(options));
    if (options !== undefined && resolveOptions(options).fingerprint !== current.#options.fingerprint) {
      throw new CacheConfigError('getInstance() was called with options that differ from the existing instance; call resetInstance() first');
    }
    return current;
  }

  /** Stops and forgets the process-wide instance; the next `getInstance()` creates a new one. */
  static async resetInstance(): Promise<void> {
    const current = SharedPromptCache.#instance;
    SharedPromptCache.#instance = undefined;
    await current?.stop();
  }

  /** Whether `start()` has been called (and `stop()` not since). */
  get started(): boolean {
    return this.#started;
  }

  /** The validated configuration. */
  get config(): Pick<ResolvedCacheOptions, 'maxEntries' | 'maxMemoryMb' | 'maxBytes' | 'defaultTtlMs' | 'cleanupIntervalMs'> {
    const { maxEntries, maxMemoryMb, maxBytes, defaultTtlMs, cleanupIntervalMs } = this.#options;
    return { maxEntries, maxMemoryMb, maxBytes, defaultTtlMs, cleanupIntervalMs };
  }

  /** Starts the periodic purge of expired entries. Idempotent; works again after `stop()`. */
  start(): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      this.#cleanupTimer = setInterval(() => this.purgeExpired(), this.#options.cleanupIntervalMs);
      // The cache must never be what keeps a process alive.
      this.#cleanupTimer.unref();
      this.#log.debug({ cleanupIntervalMs: this.#options.cleanupIntervalMs }, 'cache started');
    }
    return Promise.resolve();
  }

  /** Stops the periodic purge. Entries stay readable. Idempotent. */
  stop(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      clearInterval(this.#cleanupTimer);
      this.#cleanupTimer = undefined;
      this.#log.debug({}, 'cache stopped');
    }
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- reads

  /** The value under `key`, or undefined. Synchronous: L1 only. Refreshes recency. */
  getSync<T = unknown>(key: string): T | undefined {
    assertKey(key);
    return this.#read(key)?.value as T | undefined;
  }

  /** The value under `key`, or undefined. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    return this.getSync<T>(key);
  }

  /** Whether a live entry exists. Counts neither a hit nor a miss and leaves recency alone. */
  async has(key: string): Promise<boolean> {
    assertKey(key);
    const entry = this.#lru.peek(key);
    return entry !== undefined && entry.expiresAt > Date.now();
  }

  /** Values for `keys`, in order; undefined where missing. Each key counts a hit or a miss. */
  async mget<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    const input: unknown = keys;
    if (!Array.isArray(input)) throw new CacheKeyError('mget() takes an array of keys');
    keys.forEach(assertKey);
    return keys.map((key) => this.getSync<T>(key));
  }

  /** A prompt stored by `setPrompt`, with its metadata. */
  async getPrompt(key: string): Promise<{ prompt: string; metadata: Record<string, unknown> } | undefined> {
    const prompt = this.getSync(key);
    if (prompt === undefined) return undefined;
    const entry = this.#lru.peek(key);
    if (entry?.isPrompt !== true || typeof prompt !== 'string') {
      throw new CacheError(`key "${key}" holds a value that was not stored with setPrompt()`);
    }
    return { prompt, metadata: { ...entry.metadata } };
  }

  // ---------------------------------------------------------------- writes

  /**
   * Stores `value` under `key`. Synchronous: L1 only.
   * @throws CacheSerializationError for undefined, functions, symbols, promises, circular values
   * @throws CacheEntryTooLargeError when the entry alone exceeds the byte budget
   * @throws CacheConfigError for an invalid `ttl`
   */
  setSync(key: string, value: unknown, options?: SetOptions): void {
    this.#commit(this.#prepare(key, value, options?.ttl, options?.metadata, 0, false));
  }

  /** Stores `value` under `key`; see {@link setSync} for the errors. */
  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    this.setSync(key, value, options);
  }

  /** Stores a prompt string with metadata, read back by `getPrompt`. */
  async setPrompt(key: string, prompt: string, options?: SetOptions): Promise<void> {
    assertKey(key);
    if (typeof prompt !== 'string') throw new CacheSerializationError(key, `a prompt must be a string, got ${typeof prompt}`);
    this.#commit(this.#prepare(key, prompt, options?.ttl, options?.metadata, 0, true));
  }

  /** Stores every entry, or none: all entries are validated before the first is written. */
  async mset(entries: readonly MsetEntry[]): Promise<void> {
    const input: unknown = entries;
    if (!Array.isArray(input)) throw new CacheKeyError('mset() takes an array of { key, value, ttl? }');
    const prepared = entries.map(({ key, value, ttl }) => this.#prepare(key, value, ttl, undefined, 0, false));
    for (const write of prepared) this.#commit(write);
  }

  /** Removes `key`. Resolves true when a live entry was removed. */
  async delete(key: string): Promise<boolean> {
    assertKey(key);
    this.#supersedeFlight(key);
    const entry = this.#lru.peek(key);
    if (entry === undefined) return false;
    this.#lru.delete(key);
    if (entry.expiresAt <= Date.now()) {
      if (this.#count) this.#counters.expiredRemovals++;
      return false;
    }
    if (this.#count) this.#counters.deletes++;
    return true;
  }

  /** Removes every entry; results of computations under way are not cached. Counters are kept. */
  async clear(): Promise<void> {
    for (const flight of this.#flights.values()) flight.superseded = true;
    this.#lru.clear();
  }

  // ---------------------------------------------------------------- compute

  /**
   * The cached value, or the result of `compute`, cached. Single-flight per key: concurrent
   * callers share one `compute`; if it fails, they all get that error, nothing is cached and the
   * next call computes again. With `grace`, a recently expired value is served if `compute` fails.
   */
  async getOrCompute<T>(key: string, compute: () => T | Promise<T>, options?: GetOrComputeOptions): Promise<T> {
    assertKey(key);
    if (typeof compute !== 'function') throw new CacheError('getOrCompute() needs a compute function');
    const ttlMs = this.#ttlFor(key, options?.ttl);
    const graceMs = options?.grace === undefined ? 0 : parseDuration(options.grace, 'grace');
    const entry = this.#read(key);
    if (entry !== undefined) return entry.value as T;
    const running = this.#flights.get(key);
    if (running !== undefined) return running.promise as Promise<T>;
    return this.#fly(key, compute, ttlMs, graceMs);
  }

  #fly<T>(key: string, compute: () => T | Promise<T>, ttlMs: number, graceMs: number): Promise<T> {
    // Registered before compute runs, so a compute that throws synchronously still unregisters it.
    const flight: Flight = { promise: Promise.resolve(), superseded: false };
    this.#flights.set(key, flight);
    const promise = this.#computeAndStore(key, compute, ttlMs, graceMs, flight);
    flight.promise = promise;
    return promise;
  }

  async #computeAndStore<T>(key: string, compute: () => T | Promise<T>, ttlMs: number, graceMs: number, flight: Flight): Promise<T> {
    try {
      let value: T;
      try {
        value = await compute();
      } catch (error) {
        const stale = this.#staleWithin(key, graceMs);
        if (stale === undefined) throw error;
        this.#log.warn({ key, err: error }, 'compute failed; serving the stale value (grace)');
        return stale.value as T;
      }
      const write = this.#prepareResolved(key, value, ttlMs, graceMs);
      if (!flight.superseded) this.#commit(write);
      return value;
    } finally {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    }
  }

  /**
   * Loads many entries with bounded concurrency. A failing load is logged and counted, never
   * thrown; the others go on.
   */
  async warm(items: Iterable<WarmItem>, options: WarmOptions = {}): Promise<{ loaded: number; failed: number }> {
    const concurrency = options.concurrency ?? DEFAULT_WARM_CONCURRENCY;
    if (!(Number.isSafeInteger(concurrency) && concurrency > 0)) {
      throw new CacheConfigError(`warm() concurrency must be a positive integer, got ${String(concurrency)}`);
    }
    const list = [...items];
    // Every worker pulls from the same iterator, so each item is loaded exactly once.
    const queue = list.values();
    let loaded = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      for (const item of queue) {
        try {
          if (typeof item.load !== 'function') throw new CacheError(`warm item "${item.key}" has no load function`);
          this.setSync(item.key, await item.load(), item.ttl === undefined ? undefined : { ttl: item.ttl });
          loaded++;
        } catch (error) {
          failed++;
          this.#log.warn({ key: item.key, err: error }, 'warm: loading an item failed');
        }
        try {
          options.onProgress?.(loaded + failed, list.length);
        } catch (error) {
          this.#log.warn({ err: error }, 'warm: onProgress threw');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
    return { loaded, failed };
  }

  // ---------------------------------------------------------------- invalidation

  /**
   * Removes every key matching an fnmatch-style glob (`*` crosses `:` and `/`, `?`, `[abc]`),
   * matched against whole keys, case-sensitively. A pattern that fixes the namespace
   * (`task_prompt:*`) only looks at that namespace's keys. Resolves the number of entries removed.
   */
  async invalidate(pattern: string): Promise<number> {
    return this.#invalidate(pattern, 'local');
  }

  /**
   * Calls `callback` after an `invalidate()` whose pattern matches `pattern`, or that removed a
   * key matching `pattern`. A throwing callback is logged and counted, never rethrown.
   * @returns a function that unsubscribes
   */
  onInvalidate(pattern: string, callback: InvalidationCallback): () => void {
    const matcher = compilePattern(pattern);
    if (typeof callback !== 'function') throw new CacheError('onInvalidate() needs a callback function');
    const subscription: Subscription = { pattern, matcher, callback };
    this.#subscriptions.add(subscription);
    return () => this.#subscriptions.delete(subscription);
  }

  #invalidate(pattern: string, source: InvalidationEvent['source']): number {
    const compiled = compilePattern(pattern);
    const keys = this.#matchingKeys(compiled);
    for (const key of keys) this.#lru.delete(key);
    for (const [key, flight] of this.#flights) if (compiled.matches(key)) flight.superseded = true;
    if (this.#count) this.#counters.invalidations += keys.length;
    this.#notify({ pattern, keys, count: keys.length, source }, compiled);
    return keys.length;
  }

  #matchingKeys(pattern: KeyPattern): string[] {
    if (pattern.literal) return this.#lru.has(pattern.source, { updateAgeOnHas: false }) ? [pattern.source] : [];
    if (pattern.namespace === undefined) return [...this.#lru.keys()].filter((key) => pattern.matches(key));
    const bucket = this.#namespaces.holding(pattern.namespace);
    if (bucket === undefined) return [];
    if (pattern.wholeNamespace && bucket.exclusive) return [...bucket.stats.keys];
    return [...bucket.stats.keys].filter((key) => pattern.matches(key));
  }

  #notify(event: InvalidationEvent, compiled: KeyPattern): void {
    for (const { pattern, matcher, callback } of this.#subscriptions) {
      if (!(pattern === event.pattern || compiled.matches(pattern) || event.keys.some((key) => matcher.matches(key)))) continue;
      try {
        const result = callback(event);
        if (result instanceof Promise) {
          result.catch((error: unknown) => {
            this.#callbackFailed(pattern, error);
          });
        }
      } catch (error) {
        this.#callbackFailed(pattern, error);
      }
    }
  }

  #callbackFailed(pattern: string, error: unknown): void {
    this.#counters.callbackErrors++;
    this.#log.error({ pattern, err: error }, 'an invalidation callback threw');
  }

  // ---------------------------------------------------------------- memory

  /** Evicts up to `count` least recently used entries; returns how many were evicted. */
  evictOldest(count: number): number {
    if (!(Number.isSafeInteger(count) && count >= 0)) {
      throw new CacheConfigError(`evictOldest() takes a non-negative integer, got ${String(count)}`);
    }
    let evicted = 0;
    while (evicted < count && this.#lru.pop() !== undefined) evicted++;
    return evicted;
  }

  /**
   * Frees memory when the process is under pressure: drops expired entries, then evicts least
   * recently used entries until the cache holds at most 75% (`warning`) or 25% (`critical`) of
   * the bytes it held.
   */
  handleMemoryPressure(severity: MemoryPressureSeverity): MemoryPressureResult {
    const keep = PRESSURE_KEEP_RATIO[severity] as number | undefined;
    if (keep === undefined) throw new CacheConfigError(`severity must be 'warning' or 'critical', got ${JSON.stringify(severity)}`);
    const entriesBefore = this.#lru.size;
    const bytesBefore = this.#lru.calculatedSize;
    this.purgeExpired();
    const target = bytesBefore * keep;
    while (this.#lru.calculatedSize > target && this.#lru.pop() !== undefined);
    const entriesAfter = this.#lru.size;
    const result = { entriesBefore, entriesRemoved: entriesBefore - entriesAfter, entriesAfter, bytesFreed: bytesBefore - this.#lru.calculatedSize };
    this.#log.warn({ severity, ...result }, 'cache shed entries under memory pressure');
    return result;
  }

  /** Removes every expired entry (past its grace window); returns how many. Runs on the cleanup timer. */
  purgeExpired(): number {
    const now = Date.now();
    const expired: string[] = [];
    for (const [key, entry] of this.#lru.entries()) if (entry.staleUntil <= now) expired.push(key);
    for (const key of expired) this.#lru.delete(key);
    if (this.#count) this.#counters.expiredRemovals += expired.length;
    return expired.length;
  }

  // ---------------------------------------------------------------- observability

  /** A snapshot of the counters and occupancy. Reading it changes nothing. */
  getMetrics(): CacheMetrics {
    const { hits, misses } = this.#counters;
    const sizeBytes = this.#lru.calculatedSize;
    const memoryUsagePercent = (sizeBytes / this.#options.maxBytes) * 100;
    const namespaces: Record<string, NamespaceMetrics> = {};
    for (const stats of this.#namespaces.all()) {
      if (stats.entryCount === 0 && stats.hits === 0 && stats.misses === 0 && stats.evictions === 0) continue;
      namespaces[stats.name] = {
        hits: stats.hits,
        misses: stats.misses,
        hitRate: rate(stats.hits, stats.hits + stats.misses),
        evictions: stats.evictions,
        entryCount: stats.entryCount,
        sizeBytes: stats.sizeBytes,
      };
    }
    return {
      ...this.#counters,
      hitRate: rate(hits, hits + misses),
      missRate: rate(misses, hits + misses),
      entryCount: this.#lru.size,
      sizeBytes,
      sizeMb: sizeBytes / (1024 * 1024),
      maxEntries: this.#options.maxEntries,
      maxMemoryMb: this.#options.maxMemoryMb,
      memoryUsagePercent,
      memoryPressure: memoryUsagePercent > PRESSURE_PERCENT,
      namespaces,
    };
  }

  /** Zeroes the counters (not the entries). */
  resetMetrics(): void {
    this.#counters = zeroCounters();
    for (const stats of this.#namespaces.all()) {
      stats.hits = 0;
      stats.misses = 0;
      stats.evictions = 0;
    }
  }

  /** Every entry with its age, accesses, size, TTL and metadata; most recently used first. */
  getCacheInfo(): CacheInfo {
    const now = Date.now();
    const entries = [...this.#lru.entries()].map(([key, entry]) => ({
      key,
      ageMs: now - entry.createdAt,
      accessCount: entry.accessCount,
      sizeBytes: entry.size,
      ttlMs: entry.ttlMs,
      metadata: { ...entry.metadata },
    }));
    return { totalEntries: this.#lru.size, totalSizeBytes: this.#lru.calculatedSize, entries };
  }

  /**
   * `unhealthy` when not started or when L1's accounting is inconsistent; `degraded` when more
   * than 90% of the byte budget is used; else `healthy`. Never moves the counters.
   */
  async healthCheck(): Promise<HealthReport> {
    const sizeBytes = this.#lru.calculatedSize;
    let accounted = 0;
    let counted = 0;
    for (const stats of this.#namespaces.all()) {
      accounted += stats.sizeBytes;
      counted += stats.entryCount;
    }
    const checks = {
      started: this.#started,
      l1: counted === this.#lru.size && accounted === sizeBytes && this.#lru.size <= this.#options.maxEntries && sizeBytes <= this.#options.maxBytes,
      memory: (sizeBytes / this.#options.maxBytes) * 100 <= DEGRADED_PERCENT,
    };
    let status: HealthReport['status'] = 'healthy';
    let message = 'cache is healthy';
    if (!checks.started) {
      status = 'unhealthy';
      message = 'cache is not started';
    } else if (!checks.l1) {
      status = 'unhealthy';
      message = 'L1 accounting is inconsistent';
    } else if (!checks.memory) {
      status = 'degraded';
      message = `memory usage above ${DEGRADED_PERCENT}% of the budget`;
    }
    return { status, checks, message, timestamp: new Date().toISOString() };
  }

  /** A view of this cache whose keys are prefixed `name:` and which uses the namespace's TTL. */
  namespace(name: string): NamespacedCache {
    return new NamespacedCache(this, name);
  }

  // ---------------------------------------------------------------- internals

  /** A live entry (counting a hit) or undefined (counting a miss); expired entries are removed. */
  #read(key: string): Entry | undefined {
    const entry = this.#lru.get(key);
    if (entry !== undefined) {
      if (entry.expiresAt > this.#clock.now()) {
        entry.accessCount++;
        if (this.#count) {
          this.#counters.hits++;
          entry.stats.hits++;
        }
        return entry;
      }
      this.#expire(key, entry);
    }
    this.#countMiss(key);
    return undefined;
  }

  #ttlFor(key: string, ttl: Duration | undefined): number {
    if (ttl !== undefined) return parseDuration(ttl, 'ttl');
    if (this.#options.namespaceTtlMs.size > 0) {
      const colon = key.indexOf(':');
      const namespaceTtl = colon === -1 ? undefined : this.#options.namespaceTtlMs.get(key.slice(0, colon));
      if (namespaceTtl !== undefined) return namespaceTtl;
    }
    return this.#options.defaultTtlMs;
  }

  #prepare(key: string, value: unknown, ttl: Duration | undefined, metadata: Record<string, unknown> | undefined, graceMs: number, isPrompt: boolean): PreparedWrite {
    assertKey(key);
    return this.#prepareResolved(key, value, this.#ttlFor(key, ttl), graceMs, metadata, isPrompt);
  }

  #prepareResolved(key: string, value: unknown, ttlMs: number, graceMs: number, metadata?: Record<string, unknown>, isPrompt = false): PreparedWrite {
    const meta: unknown = metadata;
    if (meta !== undefined && (typeof meta !== 'object' || meta === null || Array.isArray(meta))) {
      throw new CacheSerializationError(key, 'metadata must be a plain object');
    }
    const size = measureValue(key, value) + (metadata === undefined ? 0 : measureValue(key, metadata)) + utf8Bytes(key) + ENTRY_OVERHEAD_BYTES;
    if (size > this.#options.maxBytes) throw new CacheEntryTooLargeError(key, size, this.#options.maxBytes);
    const now = Date.now();
    const expiresAt = now + ttlMs;
    return {
      key,
      entry: {
        value,
        size,
        createdAt: now,
        ttlMs,
        expiresAt,
        staleUntil: expiresAt + graceMs,
        metadata,
        stats: this.#namespaces.forKey(key),
        isPrompt,
        accessCount: 0,
      },
    };
  }

  #commit({ key, entry }: PreparedWrite): void {
    this.#lru.set(key, entry);
    const stats = entry.stats;
    stats.entryCount++;
    stats.sizeBytes += entry.size;
    stats.keys.add(key);
    if (this.#count) this.#counters.sets++;
  }

  /** An expired entry was read: removed, unless it is kept for a `grace` window. */
  #expire(key: string, entry: Entry): void {
    if (entry.staleUntil > Date.now()) return;
    this.#lru.delete(key);
    if (this.#count) this.#counters.expiredRemovals++;
  }

  #staleWithin(key: string, graceMs: number): Entry | undefined {
    const entry = this.#lru.peek(key);
    if (entry === undefined || graceMs === 0) return undefined;
    return Date.now() < Math.min(entry.staleUntil, entry.expiresAt + graceMs) ? entry : undefined;
  }

  #countMiss(key: string): void {
    if (!this.#count) return;
    this.#counters.misses++;
    this.#namespaces.forKey(key).misses++;
  }

  #supersedeFlight(key: string): void {
    const flight = this.#flights.get(key);
    if (flight !== undefined) flight.superseded = true;
  }
}
