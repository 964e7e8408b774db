import type { Logger } from '@pm/service-manager/contract';
import { InFlight } from './compute/in-flight.js';
import { SingleFlight } from './compute/single-flight.js';
import { warm } from './compute/warm.js';
import { resolveOptions, ttlFor, type ResolvedCacheOptions, type SharedPromptCacheOptions } from './config.js';
import { parseTtl } from './duration.js';
import { CacheConfigError, CacheError, CacheKeyError, CacheSerializationError, quoteKey } from './errors.js';
import { Invalidator } from './invalidation/invalidator.js';
import { Subscriptions } from './invalidation/subscriptions.js';
import { normalizeTags } from './invalidation/tag-index.js';
import { assertKey, keyError } from './keys.js';
import { L1Cache } from './l1/l1-cache.js';
import { shedUnderPressure } from './l1/pressure.js';
import { NamespacedCache } from './namespaced-cache.js';
import { CacheStats } from './stats/counters.js';
import { healthReport, metricsSnapshot, type Occupancy } from './stats/metrics.js';
import { recordHit, tracingHits } from './stats/tracing.js';
import { ReadThrough } from './tiers/read-through.js';
import { SharedTiers } from './tiers/shared-tiers.js';
import { WriteThrough } from './tiers/write-through.js';
import type {
  CacheInfo,
  CacheMetrics,
  GetOrComputeOptions,
  HealthReport,
  InvalidationCallback,
  MemoryPressureResult,
  MemoryPressureSeverity,
  MsetEntry,
  SetOptions,
  WarmItem,
  WarmOptions,
} from './types.js';

/**
 * The shared prompt cache: an in-process L1 on `lru-cache` with entry and byte limits, TTLs per
 * call, namespace or default, fnmatch-style and tag invalidation with callbacks, single-flight
 * `getOrCompute` (across processes too), batch operations, warming, metrics and health; with
 * optional shared tiers (an L2 store and an invalidation bus) so many processes share one cache.
 *
 * This class is the facade: each method delegates to a room with one job — `l1/` (entries,
 * limits, expiry), `compute/` (single-flight, grace, lock leases), `invalidation/` (patterns,
 * tags, callbacks), `tiers/` (L2 and the bus, read-through, outage replay), `stats/` (counters,
 * metrics, health).
 *
 * `getSync`/`setSync` are the synchronous hot path (L1 only); the async methods are the same
 * operations through the tiers. Values are held by reference, as `lru-cache` holds them: do not
 * mutate a value after caching it.
 */
export class SharedPromptCache {
  static #instance: SharedPromptCache | undefined;

  readonly #options: ResolvedCacheOptions;
  readonly #log: Logger;
  readonly #stats: CacheStats;
  readonly #l1: L1Cache;
  readonly #inFlight = new InFlight();
  readonly #subscriptions: Subscriptions;
  readonly #invalidator: Invalidator;
  readonly #tiers: SharedTiers | undefined;
  readonly #reads: ReadThrough;
  readonly #flights: SingleFlight;
  readonly #writes: WriteThrough;
  #cleanupTimer: NodeJS.Timeout | undefined;
  #started = false;

  constructor(options: SharedPromptCacheOptions = {}) {
    this.#options = resolveOptions(options);
    const { logger } = this.#options;
    this.#log = logger;
    this.#stats = new CacheStats(this.#options.enableMetrics);
    this.#l1 = new L1Cache(this.#options, this.#stats);
    this.#subscriptions = new Subscriptions(logger, this.#stats);
    this.#invalidator = new Invalidator(this.#l1, this.#inFlight, this.#stats, this.#subscriptions, logger);
    this.#tiers = SharedTiers.forCache(this.#options, this.#stats, this.#invalidator);
    const l2Tiers = this.#tiers?.l2 === undefined ? undefined : this.#tiers;
    this.#reads = new ReadThrough(this.#l1, l2Tiers, this.#inFlight, this.#stats, logger);
    this.#writes = new WriteThrough(this.#options, this.#l1, this.#stats, this.#tiers, this.#inFlight);
    this.#flights = new SingleFlight({
      l1: this.#l1,
      stats: this.#stats,
      inFlight: this.#inFlight,
      log: logger,
      tiers: this.#tiers,
      readThrough: l2Tiers === undefined ? undefined : this.#reads,
      lockLeaseMs: this.#options.distributedLockMs,
      prepare: (key, value, spec) => this.#writes.prepare(key, value, spec),
      store: (write, lock) => this.#writes.store([write], lock),
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
      throw new CacheConfigError(
        'getInstance() was called with options that differ from the existing instance; call resetInstance() first',
      );
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

  /**
   * Starts the periodic purge of expired entries and connects L2 and the bus. Idempotent; works
   * again after `stop()`. An unreachable L2 or bus does not fail it: the cache runs `degraded`
   * on L1 and picks them up when they answer.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#cleanupTimer = setInterval(() => {
      this.purgeExpired();
      // Stores that do not expire records themselves (FileStore) are swept on the same beat.
      void this.#tiers?.l2?.run('cleanup', async (store) => store.cleanup?.() ?? 0);
    }, this.#options.cleanupIntervalMs);
    // The cache must never be what keeps a process alive.
    this.#cleanupTimer.unref();
    await this.#tiers?.connect();
    this.#log.debug({ cleanupIntervalMs: this.#options.cleanupIntervalMs }, 'cache started');
  }

  /** Stops the periodic purge and closes L2 and the bus. Entries stay readable. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    clearInterval(this.#cleanupTimer);
    this.#cleanupTimer = undefined;
    await this.#tiers?.close();
    this.#log.debug({}, 'cache stopped');
  }

  // ---------------------------------------------------------------- reads

  /** The value under `key`, or undefined. Synchronous: L1 only. Refreshes recency. */
  getSync<T = unknown>(key: string): T | undefined {
    if (typeof key !== 'string' || key === '') assertKey(key);
    const value = this.#l1.readValue(key);
    if (value === undefined) this.#stats.miss(key);
    return value as T | undefined;
  }

  /** The value under `key`, or undefined: L1, then L2 (which backfills L1 with the remaining TTL). */
  get<T = unknown>(key: string): Promise<T | undefined> {
    // Not async: the L2 read's own promise is handed back, with no extra turns of the microtask queue.
    const invalid = keyError(key);
    return invalid === undefined ? (this.#reads.value(key) as Promise<T | undefined>) : Promise.reject(invalid);
  }

  /** Whether a live entry exists (in L1 or L2). Counts neither a hit nor a miss and leaves recency alone. */
  async has(key: string): Promise<boolean> {
    assertKey(key);
    return this.#l1.has(key) || (await this.#tiers?.has(key)) === true;
  }

  /** Values for `keys`, in order; undefined where missing. L1 misses are read from L2 in one call. */
  async mget<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    const input: unknown = keys;
    if (!Array.isArray(input)) throw new CacheKeyError('mget() takes an array of keys');
    keys.forEach(assertKey);
    return (await this.#reads.many(keys)).map((entry) => entry?.value as T | undefined);
  }

  /** A prompt stored by `setPrompt`, with its metadata. */
  async getPrompt(key: string): Promise<{ prompt: string; metadata: Record<string, unknown> } | undefined> {
    assertKey(key);
    const entry = await this.#reads.get(key);
    if (entry === undefined) return undefined;
    if (!entry.isPrompt || typeof entry.value !== 'string')
      throw new CacheError(`key ${quoteKey(key)} holds a value that was not stored with setPrompt()`);
    return { prompt: entry.value, metadata: { ...entry.metadata } };
  }

  // ---------------------------------------------------------------- writes

  /**
   * Stores `value` under `key`. Synchronous: L1 only (other processes are not told; use `set`).
   * @throws CacheSerializationError for undefined, functions, symbols, promises, circular values
   *   (and, with an L2, values that would not come back from it as the same value)
   * @throws CacheEntryTooLargeError when the entry alone exceeds the byte budget
   * @throws CacheConfigError for an invalid `ttl` or `tags`
   */
  setSync(key: string, value: unknown, options?: SetOptions): void {
    this.#writes.setSync(key, value, options);
  }

  /**
   * Stores `value` under `key` in L1 and L2, then tells other processes (only once L2 holds it).
   * See {@link setSync} for the errors; a failing L2 or bus never fails the write.
   */
  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    await this.#writes.store([this.#writes.prepareSet(key, value, options)]);
  }

  /** Stores a prompt string with metadata, read back by `getPrompt`. */
  async setPrompt(key: string, prompt: string, options?: SetOptions): Promise<void> {
    assertKey(key);
    if (typeof prompt !== 'string') throw new CacheSerializationError(key, `a prompt must be a string, got ${typeof prompt}`);
    await this.#writes.store([this.#writes.prepareSet(key, prompt, options, true)]);
  }

  /** Stores every entry, or none: all entries are validated before the first is written. */
  async mset(entries: readonly MsetEntry[]): Promise<void> {
    const input: unknown = entries;
    if (!Array.isArray(input)) throw new CacheKeyError('mset() takes an array of { key, value, ttl?, tags? }');
    await this.#writes.store(
      entries.map(({ key, value, ttl, tags }) =>
        this.#writes.prepareSet(key, value, { ...(ttl === undefined ? {} : { ttl }), ...(tags === undefined ? {} : { tags }) }),
      ),
    );
  }

  /** Removes `key` from L1 and L2 and tells other processes. Resolves true when a live entry was removed. */
  async delete(key: string): Promise<boolean> {
    assertKey(key);
    let existed = this.#l1.delete(key) === 'live';
    this.#invalidator.staleKey(key);
    if (this.#tiers !== undefined) {
      existed = (await this.#tiers.remove({ type: 'delete', keys: [key] })).removed > 0 || existed;
      // Reads that began while L2 still held the value must not bring it back.
      this.#invalidator.staleKey(key);
    }
    if (existed) this.#stats.count('deletes');
    return existed;
  }

  /** Removes every entry, here, in L2 and in other processes; results of computations under way are not cached. Counters are kept. */
  async clear(): Promise<void> {
    this.#invalidator.dropAll();
    if (this.#tiers === undefined) return;
    await this.#tiers.remove({ type: 'clear' });
    this.#inFlight.staleAll();
  }

  // ---------------------------------------------------------------- compute

  /**
   * The cached value, or the result of `compute`, cached. Single-flight per key (and across
   * processes, with an L2 that can lock): concurrent callers share one `compute`; if it fails,
   * they all get that error, nothing is cached and the next call computes again. With `grace`, a
   * recently expired value is served if `compute` fails. A value too large for the whole budget
   * is returned to every caller, not cached.
   */
  async getOrCompute<T>(key: string, compute: () => T | Promise<T>, options?: GetOrComputeOptions<T>): Promise<T> {
    assertKey(key);
    if (typeof compute !== 'function') throw new CacheError('getOrCompute() needs a compute function');
    const ttlMs = ttlFor(this.#options, key, options?.ttl);
    const graceMs = options?.grace === undefined ? 0 : parseTtl(options.grace, 'grace');
    const tags =
      typeof options?.tags === 'function' ? (options.tags as (value: unknown) => readonly string[]) : normalizeTags(options?.tags);
    const cached = this.#l1.readValue(key);
    if (cached !== undefined) {
      if (tracingHits()) recordHit('cache.getOrCompute', key);
      return cached as T;
    }
    const running = this.#flights.running<T>(key);
    if (running !== undefined) {
      this.#stats.miss(key);
      return running;
    }
    return this.#flights.start(key, compute, { ttlMs, graceMs, tags });
  }

  /**
   * Loads many entries with bounded concurrency. A failing load is logged and counted, never
   * thrown; the others go on.
   */
  async warm(items: Iterable<WarmItem>, options: WarmOptions = {}): Promise<{ loaded: number; failed: number }> {
    return warm(items, options, (key, value, setOptions) => this.set(key, value, setOptions), this.#log);
  }

  // ---------------------------------------------------------------- invalidation

  /**
   * Removes every key matching an fnmatch-style glob (`*` crosses `:` and `/`, `?`, `[abc]`),
   * matched against whole keys, case-sensitively, here, in L2 and in other processes. A pattern
   * that fixes the namespace (`task_prompt:*`) only looks at that namespace's keys. Resolves the
   * number of L1 entries removed.
   */
  async invalidate(pattern: string): Promise<number> {
    const removed = this.#invalidator.byPattern(pattern, 'local');
    if (this.#tiers !== undefined) {
      await this.#tiers.remove({ type: 'invalidate', pattern });
      this.#invalidator.byPattern(pattern, 'local');
    }
    return removed;
  }

  /**
   * Removes every entry carrying any of `tags`, in every tier and every process. Resolves the
   * number of L1 entries removed.
   */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    const list = normalizeTags(tags);
    if (list === undefined) return 0;
    const removed = this.#invalidator.byTags(list, 'local');
    if (this.#tiers !== undefined) {
      await this.#tiers.remove({ type: 'tags', tags: [...list] });
      this.#inFlight.staleTagged(list);
    }
    return removed;
  }

  /**
   * Calls `callback` after an invalidation whose pattern matches `pattern`, or that removed a
   * key matching `pattern` (tag invalidations included). A throwing callback is logged and
   * counted, never rethrown.
   * @returns a function that unsubscribes
   */
  onInvalidate(pattern: string, callback: InvalidationCallback): () => void {
    return this.#subscriptions.add(pattern, callback);
  }

  // ---------------------------------------------------------------- memory

  /** Evicts up to `count` least recently used entries; returns how many were evicted. */
  evictOldest(count: number): number {
    if (!(Number.isSafeInteger(count) && count >= 0))
      throw new CacheConfigError(`evictOldest() takes a non-negative integer, got ${String(count)}`);
    return this.#l1.evictOldest(count);
  }

  /**
   * Frees memory when the process is under pressure: drops expired entries, then evicts least
   * recently used ones until at most 75% (`warning`) or 25% (`critical`) of the bytes remain.
   */
  handleMemoryPressure(severity: MemoryPressureSeverity): MemoryPressureResult {
    const result = shedUnderPressure(this.#l1, severity);
    this.#log.warn({ severity, ...result }, 'cache shed entries under memory pressure');
    return result;
  }

  /** Removes every expired entry (past its grace window); returns how many. Runs on the cleanup timer. */
  purgeExpired(): number {
    return this.#l1.purgeExpired();
  }

  // ---------------------------------------------------------------- observability

  /** A snapshot of the counters and occupancy. Reading it changes nothing. */
  getMetrics(): CacheMetrics {
    return metricsSnapshot(this.#stats, this.#occupancy(), this.#tiers);
  }

  /** Zeroes the counters (not the entries). */
  resetMetrics(): void {
    this.#stats.reset();
  }

  /** Every entry with its age, accesses, size, TTL and metadata; most recently used first. */
  getCacheInfo(): CacheInfo {
    return this.#l1.info();
  }

  /**
   * `unhealthy` when not started or when L1's accounting is inconsistent; `degraded` when a
   * configured L2 or bus is unreachable (the message says whether credentials were refused),
   * refuses writes, or more than 90% of the byte budget is used; else `healthy`. Never moves the
   * counters.
   */
  async healthCheck(): Promise<HealthReport> {
    return healthReport(this.#started, this.#l1.consistent(), this.#occupancy(), this.#tiers);
  }

  /** A view of this cache whose keys are prefixed `name:` and which uses the namespace's TTL. */
  namespace(name: string): NamespacedCache {
    return new NamespacedCache(this, name);
  }

  // ---------------------------------------------------------------- internals

  #occupancy(): Occupancy {
    const { maxEntries, maxMemoryMb, maxBytes } = this.#options;
    return { entryCount: this.#l1.size, sizeBytes: this.#l1.bytes, maxEntries, maxMemoryMb, maxBytes };
  }
}
