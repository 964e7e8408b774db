import { LRUCache } from 'lru-cache';
import { CoarseClock } from './coarse-clock.js';
import { randomBytes } from 'node:crypto';
import { InFlight, stillFresh, type Ticket } from './in-flight.js';
import { resolveOptions, type ResolvedCacheOptions, type SharedPromptCacheOptions } from './config.js';
import { parseDuration, type Duration } from './duration.js';
import { CacheConfigError, CacheEntryTooLargeError, CacheError, CacheKeyError, CacheSerializationError } from './errors.js';
import { assertKey } from './keys.js';
import type { Logger } from '@pm/service-manager/contract';
import { NamespacedCache } from './namespaced-cache.js';
import { NamespaceRegistry, type NamespaceStats } from './namespace-stats.js';
import { compilePattern, type KeyPattern } from './pattern.js';
import { ENTRY_OVERHEAD_BYTES, measureValue, utf8Bytes } from './size.js';
import type { InvalidationMessage, StoredEntry } from './stores/cache-store.js';
import { BusTier, StoreTier } from './tiers.js';
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

/** What a read yields: the value and what `getPrompt` needs. */
interface ReadEntry {
  readonly value: unknown;
  readonly metadata: Record<string, unknown> | undefined;
  readonly isPrompt: boolean;
}

interface Entry extends ReadEntry {
  /** Accounted bytes: value, metadata, key and bookkeeping. */
  readonly size: number;
  readonly createdAt: number;
  readonly ttlMs: number;
  readonly expiresAt: number;
  /** Until when an expired entry is kept for stale-if-error (`grace`); equals expiresAt without grace. */
  readonly staleUntil: number;
  readonly stats: NamespaceStats;
  accessCount: number;
}

/** A validated write, ready to commit: `mset` prepares every entry before committing any. */
interface PreparedWrite {
  readonly key: string;
  readonly entry: Entry;
}

interface Flight {
  promise: Promise<unknown>;
  /** Goes stale when the key is deleted or invalidated mid-compute: the result is then not cached. */
  ticket: Ticket;
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
/** How often a process waiting on another's distributed lock looks for the value in L2. */
const LOCK_POLL_MS = 20;

const toStored = (entry: Entry, version: string): StoredEntry => ({
  value: entry.value,
  expiresAt: entry.expiresAt,
  version,
  ...(entry.metadata === undefined ? {} : { metadata: entry.metadata }),
  ...(entry.isPrompt ? { prompt: true } : {}),
});

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
  readonly #l2: StoreTier | undefined;
  readonly #bus: BusTier | undefined;
  /** Computations and L2 reads under way, which removals mark stale. */
  readonly #inFlight = new InFlight();

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
    const { l2, bus, tierTimeoutMs } = this.#options;
    this.#l2 = l2 === undefined ? undefined : new StoreTier(l2, tierTimeoutMs, this.#log);
    this.#bus = bus === undefined ? undefined : new BusTier(bus, tierTimeoutMs, this.#log);
    bus?.subscribe({ onMessage: (message) => { this.#onRemote(message); }, onReconnect: () => { this.#resync(); } });
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
      void this.#l2?.run('cleanup', async (store) => store.cleanup?.() ?? 0, 0);
    }, this.#options.cleanupIntervalMs);
    // The cache must never be what keeps a process alive.
    this.#cleanupTimer.unref();
    await Promise.all([this.#l2?.connect(), this.#bus?.connect()]);
    this.#log.debug({ cleanupIntervalMs: this.#options.cleanupIntervalMs }, 'cache started');
  }

  /** Stops the periodic purge and closes L2 and the bus. Entries stay readable. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    clearInterval(this.#cleanupTimer);
    this.#cleanupTimer = undefined;
    await Promise.all([this.#l2?.close(), this.#bus?.close()]);
    this.#log.debug({}, 'cache stopped');
  }

  // ---------------------------------------------------------------- reads

  /** The value under `key`, or undefined. Synchronous: L1 only. Refreshes recency. */
  getSync<T = unknown>(key: string): T | undefined {
    assertKey(key);
    return this.#read(key)?.value as T | undefined;
  }

  /** The value under `key`, or undefined: L1, then L2 (which backfills L1 with the remaining TTL). */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    if (this.#l2 === undefined) return this.getSync<T>(key);
    assertKey(key);
    return (await this.#readThrough(key))?.value as T | undefined;
  }

  /** Whether a live entry exists (in L1 or L2). Counts neither a hit nor a miss and leaves recency alone. */
  async has(key: string): Promise<boolean> {
    assertKey(key);
    const entry = this.#lru.peek(key);
    if (entry !== undefined && entry.expiresAt > Date.now()) return true;
    return this.#l2 !== undefined && (await this.#l2.run('has', (store) => store.get(key), undefined)) !== undefined;
  }

  /** Values for `keys`, in order; undefined where missing. L1 misses are read from L2 in one call. */
  async mget<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    const input: unknown = keys;
    if (!Array.isArray(input)) throw new CacheKeyError('mget() takes an array of keys');
    keys.forEach(assertKey);
    if (this.#l2 === undefined) return keys.map((key) => this.getSync<T>(key));
    const values = keys.map((key) => this.#read(key, false)?.value as T | undefined);
    const missing = keys.filter((_, i) => values[i] === undefined);
    if (missing.length === 0) return values;
    const tickets = missing.map((key) => this.#inFlight.begin(key));
    try {
      const stored = await this.#l2.mget(missing);
      let next = 0;
      return keys.map((key, i) => {
        const value = values[i];
        if (value !== undefined) return value;
        const ticket = tickets[next];
        const found = stored[next++];
        if (found === undefined || ticket === undefined) {
          this.#countMiss(key);
          return undefined;
        }
        return this.#backfill(key, found, ticket).value as T;
      });
    } finally {
      for (const ticket of tickets) this.#inFlight.end(ticket);
    }
  }

  /** A prompt stored by `setPrompt`, with its metadata. */
  async getPrompt(key: string): Promise<{ prompt: string; metadata: Record<string, unknown> } | undefined> {
    assertKey(key);
    const entry = this.#l2 === undefined ? this.#read(key) : await this.#readThrough(key);
    if (entry === undefined) return undefined;
    if (!entry.isPrompt || typeof entry.value !== 'string') {
      throw new CacheError(`key "${key}" holds a value that was not stored with setPrompt()`);
    }
    return { prompt: entry.value, metadata: { ...entry.metadata } };
  }

  // ---------------------------------------------------------------- writes

  /**
   * Stores `value` under `key`. Synchronous: L1 only (other processes are not told; use `set`).
   * @throws CacheSerializationError for undefined, functions, symbols, promises, circular values
   * @throws CacheEntryTooLargeError when the entry alone exceeds the byte budget
   * @throws CacheConfigError for an invalid `ttl`
   */
  setSync(key: string, value: unknown, options?: SetOptions): void {
    this.#commit(this.#prepare(key, value, options?.ttl, options?.metadata, 0, false));
  }

  /**
   * Stores `value` under `key` in L1 and L2, then tells other processes to drop their copy.
   * See {@link setSync} for the errors; a failing L2 or bus never fails the write.
   */
  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    const write = this.#prepare(key, value, options?.ttl, options?.metadata, 0, false);
    this.#commit(write);
    await this.#share([write]);
  }

  /** Stores a prompt string with metadata, read back by `getPrompt`. */
  async setPrompt(key: string, prompt: string, options?: SetOptions): Promise<void> {
    assertKey(key);
    if (typeof prompt !== 'string') throw new CacheSerializationError(key, `a prompt must be a string, got ${typeof prompt}`);
    const write = this.#prepare(key, prompt, options?.ttl, options?.metadata, 0, true);
    this.#commit(write);
    await this.#share([write]);
  }

  /** Stores every entry, or none: all entries are validated before the first is written. */
  async mset(entries: readonly MsetEntry[]): Promise<void> {
    const input: unknown = entries;
    if (!Array.isArray(input)) throw new CacheKeyError('mset() takes an array of { key, value, ttl? }');
    const prepared = entries.map(({ key, value, ttl }) => this.#prepare(key, value, ttl, undefined, 0, false));
    for (const write of prepared) this.#commit(write);
    await this.#share(prepared);
  }

  /** Removes `key` from L1 and L2 and tells other processes. Resolves true when a live entry was removed. */
  async delete(key: string): Promise<boolean> {
    assertKey(key);
    this.#inFlight.staleKey(key);
    const entry = this.#lru.peek(key);
    let existed = false;
    if (entry !== undefined) {
      this.#lru.delete(key);
      if (entry.expiresAt <= Date.now()) {
        if (this.#count) this.#counters.expiredRemovals++;
      } else {
        existed = true;
      }
    }
    if (this.#l2 !== undefined) {
      existed = (await this.#l2.run('delete', (store) => store.delete(key), false)) || existed;
      // Reads that began while L2 still held the value must not bring it back.
      this.#inFlight.staleKey(key);
    }
    await this.#bus?.publish({ type: 'delete', keys: [key] });
    if (existed && this.#count) this.#counters.deletes++;
    return existed;
  }

  /** Removes every entry, here, in L2 and in other processes; results of computations under way are not cached. Counters are kept. */
  async clear(): Promise<void> {
    this.#dropAllLocal();
    if (this.#l2 !== undefined) {
      await this.#l2.run('clear', (store) => store.clear(), undefined);
      this.#inFlight.staleAll();
    }
    await this.#bus?.publish({ type: 'clear' });
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
    // With an L2 the miss is counted once L2 has been asked too.
    const entry = this.#read(key, this.#l2 === undefined);
    if (entry !== undefined) return entry.value as T;
    const running = this.#flights.get(key);
    if (running !== undefined) {
      if (this.#l2 !== undefined) this.#countMiss(key);
      return running.promise as Promise<T>;
    }
    return this.#fly(key, compute, ttlMs, graceMs);
  }

  #fly<T>(key: string, compute: () => T | Promise<T>, ttlMs: number, graceMs: number): Promise<T> {
    // Registered before compute runs, so a compute that throws synchronously still unregisters it.
    const flight: Flight = { promise: Promise.resolve(), ticket: this.#inFlight.begin(key) };
    this.#flights.set(key, flight);
    const promise = this.#computeAndStore(key, compute, ttlMs, graceMs, flight);
    flight.promise = promise;
    return promise;
  }

  async #computeAndStore<T>(key: string, compute: () => T | Promise<T>, ttlMs: number, graceMs: number, flight: Flight): Promise<T> {
    let release: (() => Promise<void>) | undefined;
    try {
      if (this.#l2 !== undefined) {
        const shared = await this.#fromL2(key);
        if (shared !== undefined) return shared.value as T;
        const lock = await this.#awaitLockOrValue(key);
        if ('value' in lock) return lock.value as T;
        release = lock.release;
      }
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
      if (!flight.ticket.stale) {
        this.#commit(write);
        await this.#share([write]);
      }
      return value;
    } finally {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
      this.#inFlight.end(flight.ticket);
      if (release !== undefined) await this.#l2?.run('unlock', release, undefined);
    }
  }

  /**
   * Distributed single-flight: take the key's lock in L2, or wait for the holder's value to
   * appear there. A holder that dies stops blocking the others when its lock's TTL runs out.
   */
  async #awaitLockOrValue(key: string): Promise<{ value: unknown } | { release: (() => Promise<void>) | undefined }> {
    const lockTtlMs = this.#options.distributedLockMs;
    const l2 = this.#l2;
    if (lockTtlMs === undefined || l2?.store.lock === undefined) return { release: undefined };
    const deadline = Date.now() + lockTtlMs;
    for (;;) {
      // When L2 cannot answer, compute here rather than wait on it.
      const outcome = await l2.run<{ release: (() => Promise<void>) | undefined } | 'unavailable'>('lock', async (store) => ({ release: await store.lock?.(key, lockTtlMs) }), 'unavailable');
      if (outcome === 'unavailable') return { release: undefined };
      if (outcome.release !== undefined || Date.now() >= deadline) return { release: outcome.release };
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
      const ticket = this.#inFlight.begin(key);
      try {
        const stored = await l2.run('get', (store) => store.get(key), undefined);
        if (stored !== undefined) return { value: this.#backfill(key, stored, ticket).value };
      } finally {
        this.#inFlight.end(ticket);
      }
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
          await this.set(item.key, await item.load(), item.ttl === undefined ? undefined : { ttl: item.ttl });
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
    const removed = this.#invalidate(pattern, 'local');
    if (this.#l2 !== undefined) {
      await this.#l2.run('invalidate', (store) => store.invalidate(pattern), 0);
      const matcher = compilePattern(pattern);
      this.#inFlight.staleMatching((key) => matcher.matches(key));
    }
    await this.#bus?.publish({ type: 'invalidate', pattern });
    return removed;
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
    this.#inFlight.staleMatching((key) => compiled.matches(key));
    const keys = this.#matchingKeys(compiled);
    for (const key of keys) this.#lru.delete(key);
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
      ...(this.#l2 === undefined ? {} : { l2: this.#l2.metrics() }),
      ...(this.#bus === undefined ? {} : { bus: this.#bus.metrics() }),
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
    const checks: Record<string, boolean> = {
      started: this.#started,
      l1: counted === this.#lru.size && accounted === sizeBytes && this.#lru.size <= this.#options.maxEntries && sizeBytes <= this.#options.maxBytes,
      memory: (sizeBytes / this.#options.maxBytes) * 100 <= DEGRADED_PERCENT,
    };
    if (this.#l2 !== undefined) checks.l2 = this.#l2.available && (await this.#l2.health());
    if (this.#bus !== undefined) checks.bus = this.#bus.bus.connected;
    let status: HealthReport['status'] = 'healthy';
    let message = 'cache is healthy';
    if (!checks.started) {
      status = 'unhealthy';
      message = 'cache is not started';
    } else if (!checks.l1) {
      status = 'unhealthy';
      message = 'L1 accounting is inconsistent';
    } else if (checks.l2 === false || checks.bus === false) {
      status = 'degraded';
      message = `serving from L1: ${[checks.l2 === false ? `L2 (${this.#l2?.store.name ?? ''}) unreachable` : '', checks.bus === false ? 'invalidation bus disconnected' : ''].filter(Boolean).join(', ')}`;
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

  /** A live L1 entry (counting a hit) or undefined (counting a miss, if asked); expired entries are removed. */
  #read(key: string, countMiss = true): Entry | undefined {
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
    if (countMiss) this.#countMiss(key);
    return undefined;
  }

  /** L1, then L2; counts one hit or one miss. */
  async #readThrough(key: string): Promise<ReadEntry | undefined> {
    return this.#read(key, false) ?? (await this.#fromL2(key));
  }

  /** An L2 read for an L1 miss: backfills L1 and counts the hit, or counts the miss. */
  async #fromL2(key: string): Promise<ReadEntry | undefined> {
    const ticket = this.#inFlight.begin(key);
    try {
      const stored = await this.#l2?.get(key);
      if (stored === undefined) {
        this.#countMiss(key);
        return undefined;
      }
      return this.#backfill(key, stored, ticket);
    } finally {
      this.#inFlight.end(ticket);
    }
  }

  /**
   * Copies an L2 entry into L1 with its remaining TTL, unless the key was removed while the read
   * ran (its ticket went stale), in which case the value is returned but not kept. Counts a hit.
   */
  #backfill(key: string, stored: StoredEntry, ticket: Ticket): ReadEntry {
    if (this.#count) {
      this.#counters.hits++;
      this.#namespaces.forKey(key).hits++;
    }
    const read: ReadEntry = { value: stored.value, metadata: stored.metadata, isPrompt: stored.prompt === true };
    if (!stillFresh(ticket, stored.version)) return read;
    try {
      const write = this.#prepareResolved(key, stored.value, stored.expiresAt - Date.now(), 0, stored.metadata, stored.prompt === true);
      this.#commit(write, false);
      return write.entry;
    } catch (error) {
      // Valid in L2 but not for this L1 (too big for its budget, say): serve it, do not keep it.
      this.#log.debug({ key, err: error }, 'L2 value not copied into L1');
      return read;
    }
  }

  /** Writes committed entries to L2, then tells other processes to drop their copies. */
  async #share(writes: readonly PreparedWrite[]): Promise<void> {
    const l2 = this.#l2;
    if (writes.length === 0 || (l2 === undefined && this.#bus === undefined)) return;
    const versions = writes.map(() => randomBytes(8).toString('hex'));
    if (l2 !== undefined) await Promise.all(writes.map(({ key, entry }, i) => l2.run('set', (store) => store.set(key, toStored(entry, versions[i] ?? '')), undefined)));
    // Only after L2 holds the new value: a process that drops its copy must not re-read the old one.
    await this.#bus?.publish({ type: 'delete', keys: writes.map((w) => w.key), ...(l2 === undefined ? {} : { versions }) });
  }

  #dropAllLocal(): void {
    this.#inFlight.staleAll();
    this.#lru.clear();
  }

  /** Another process changed something: drop what this L1 holds of it. */
  #onRemote(message: InvalidationMessage): void {
    if (this.#bus !== undefined) this.#bus.received++;
    if (message.type === 'delete') {
      message.keys.forEach((key, i) => {
        this.#inFlight.staleKey(key, message.versions?.[i]);
        this.#lru.delete(key);
      });
    } else if (message.type === 'invalidate') {
      this.#invalidate(message.pattern, 'remote');
    } else {
      this.#dropAllLocal();
    }
  }

  /** The bus was down, so invalidations may have been missed: nothing in L1 can be trusted. */
  #resync(): void {
    if (this.#bus !== undefined) this.#bus.resyncs++;
    this.#log.warn({ entries: this.#lru.size }, 'invalidation bus reconnected; clearing L1 since messages may have been missed');
    this.#dropAllLocal();
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

  #commit({ key, entry }: PreparedWrite, countSet = true): void {
    this.#lru.set(key, entry);
    const stats = entry.stats;
    stats.entryCount++;
    stats.sizeBytes += entry.size;
    stats.keys.add(key);
    if (countSet && this.#count) this.#counters.sets++;
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
}
