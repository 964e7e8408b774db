import { LRUCache } from 'lru-cache';
import { CacheConfigError, CacheEntryTooLargeError, CacheSerializationError } from '../errors.js';
import type { KeyPattern } from '../invalidation/pattern.js';
import { TagIndex } from '../invalidation/tag-index.js';
import type { CacheStats } from '../stats/counters.js';
import type { CacheInfo, MemoryPressureResult, MemoryPressureSeverity } from '../types.js';
import { CoarseClock } from './coarse-clock.js';
import { L1Entry, type PreparedWrite } from './entry.js';
import { ENTRY_OVERHEAD_BYTES, measureValue, utf8Bytes } from './size.js';

export interface L1Limits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** How an entry is written. */
export interface EntrySpec {
  readonly ttlMs: number;
  /** Stale-if-error window after expiry. @default 0 */
  readonly graceMs?: number;
  readonly metadata?: Record<string, unknown> | undefined;
  readonly isPrompt?: boolean;
  readonly tags?: readonly string[] | undefined;
  readonly version?: string | undefined;
  /** Refuse values that would not come back from L2 as the same value. */
  readonly roundTrip?: boolean;
}

/** Share of the bytes held that `shed` keeps, per severity. */
const PRESSURE_KEEP_RATIO: Record<MemoryPressureSeverity, number> = { warning: 0.75, critical: 0.25 };

/** How an entry left L1 on `delete`. */
export type Removal = 'live' | 'expired' | undefined;

/**
 * The in-process tier on `lru-cache`: entry and byte limits, least-recently-used eviction,
 * expiry, the namespace and tag indexes. Every addition to and removal from the accounting
 * happens here, in `commit` and in lru-cache's `dispose`, so what is counted is what is held.
 */
export class L1Cache {
  readonly #lru: LRUCache<string, L1Entry>;
  readonly #stats: CacheStats;
  readonly #limits: L1Limits;
  readonly #clock = new CoarseClock();
  readonly #tags = new TagIndex();
  /** The entry an overwrite just replaced (dispose runs inside lru.set): its indexes are reused. */
  #replaced: L1Entry | undefined;

  constructor(limits: L1Limits, stats: CacheStats) {
    this.#limits = limits;
    this.#stats = stats;
    this.#lru = new LRUCache<string, L1Entry>({
      max: limits.maxEntries,
      maxSize: limits.maxBytes,
      sizeCalculation: (entry) => entry.size,
      dispose: (entry, key, reason) => {
        const ns = entry.ns;
        ns.entryCount--;
        ns.sizeBytes -= entry.size;
        if (reason === 'set') {
          // An overwrite: the key stays in its indexes. Deleting and re-adding a key in a big
          // Set makes V8 walk ever longer chains (a hot key rewritten cost ~130 µs a write).
          this.#replaced = entry;
          return;
        }
        ns.keys.delete(key);
        if (entry.tags !== undefined) this.#tags.remove(key, entry.tags);
        if (reason === 'evict') this.#stats.evicted(ns);
      },
    });
  }

  get size(): number {
    return this.#lru.size;
  }

  get bytes(): number {
    return this.#lru.calculatedSize;
  }

  /** Validates and measures a write; nothing changes until `commit`. */
  prepare(key: string, value: unknown, spec: EntrySpec): PreparedWrite {
    const metadata: unknown = spec.metadata;
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
      throw new CacheSerializationError(key, 'metadata must be a plain object');
    }
    const roundTrip = spec.roundTrip === true;
    const size =
      measureValue(key, value, roundTrip) +
      (spec.metadata === undefined ? 0 : measureValue(key, spec.metadata, roundTrip)) +
      utf8Bytes(key) +
      ENTRY_OVERHEAD_BYTES;
    if (size > this.#limits.maxBytes) throw new CacheEntryTooLargeError(key, size, this.#limits.maxBytes);
    const now = Date.now();
    const expiresAt = now + spec.ttlMs;
    const entry = new L1Entry(
      value,
      size,
      now,
      spec.ttlMs,
      expiresAt,
      expiresAt + (spec.graceMs ?? 0),
      this.#stats.namespaces.forKey(key),
      spec.metadata,
      spec.isPrompt === true,
      spec.tags,
      spec.version,
    );
    return { key, entry };
  }

  commit({ key, entry }: PreparedWrite): void {
    this.#replaced = undefined;
    this.#lru.set(key, entry);
    const replaced = this.#replaced as L1Entry | undefined;
    this.#replaced = undefined;
    const ns = entry.ns;
    ns.entryCount++;
    ns.sizeBytes += entry.size;
    if (replaced === undefined) ns.keys.add(key);
    if (replaced?.tags !== undefined) this.#tags.remove(key, replaced.tags);
    if (entry.tags !== undefined) this.#tags.add(key, entry.tags);
  }

  /**
   * A live entry (counting a hit, refreshing recency), or undefined: misses are counted by the
   * caller, which may still ask L2. An expired entry is removed, unless kept for grace.
   */
  read(key: string): L1Entry | undefined {
    const entry = this.#lru.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#clock.now()) {
      entry.accessCount++;
      this.#stats.hit(entry.ns);
      return entry;
    }
    if (entry.staleUntil <= Date.now()) {
      this.#lru.delete(key);
      this.#stats.count('expiredRemovals');
    }
    return undefined;
  }

  /** The entry without touching recency or counters. */
  peek(key: string): L1Entry | undefined {
    return this.#lru.peek(key);
  }

  /** Whether a live entry exists; neither a hit nor a miss, recency untouched. */
  has(key: string): boolean {
    const entry = this.#lru.peek(key);
    return entry !== undefined && entry.expiresAt > Date.now();
  }

  /** An expired entry still inside `graceMs` of its expiry (stale-if-error), or undefined. */
  stale(key: string, graceMs: number): L1Entry | undefined {
    const entry = this.#lru.peek(key);
    if (entry === undefined || graceMs === 0) return undefined;
    return Date.now() < Math.min(entry.staleUntil, entry.expiresAt + graceMs) ? entry : undefined;
  }

  delete(key: string): Removal {
    const entry = this.#lru.peek(key);
    if (entry === undefined) return undefined;
    this.#lru.delete(key);
    if (entry.expiresAt > Date.now()) return 'live';
    this.#stats.count('expiredRemovals');
    return 'expired';
  }

  /**
   * Another process changed `key`: an entry with a grace window is marked expired (kept for
   * stale-if-error, as bentocache's bus does), any other is dropped. An entry that already is
   * the announced version stays.
   */
  softExpire(key: string, version?: string): void {
    const entry = this.#lru.peek(key);
    if (entry === undefined || (version !== undefined && entry.version === version)) return;
    const now = Date.now();
    if (entry.staleUntil > now && entry.staleUntil > entry.expiresAt) entry.expiresAt = Math.min(entry.expiresAt, now);
    else this.#lru.delete(key);
  }

  /** Keys matching a pattern; a pattern that fixes the namespace only looks at that namespace's keys. */
  keysMatching(pattern: KeyPattern): string[] {
    if (pattern.literal) return this.#lru.has(pattern.prefix, { updateAgeOnHas: false }) ? [pattern.prefix] : [];
    if (pattern.namespace === undefined) return [...this.#lru.keys()].filter((key) => pattern.matches(key));
    const bucket = this.#stats.namespaces.holding(pattern.namespace);
    if (bucket === undefined) return [];
    if (pattern.wholeNamespace && bucket.exclusive) return [...bucket.stats.keys];
    return [...bucket.stats.keys].filter((key) => pattern.matches(key));
  }

  keysTagged(tags: readonly string[]): string[] {
    return this.#tags.keysWith(tags);
  }

  /** Removes keys (an invalidation); resolves how many were held. */
  removeAll(keys: readonly string[]): number {
    let removed = 0;
    for (const key of keys) if (this.#lru.delete(key)) removed++;
    return removed;
  }

  clear(): void {
    this.#lru.clear();
  }

  /** Removes every entry past its grace window; resolves how many. */
  purgeExpired(): number {
    const now = Date.now();
    const expired: string[] = [];
    for (const [key, entry] of this.#lru.entries()) if (entry.staleUntil <= now) expired.push(key);
    for (const key of expired) this.#lru.delete(key);
    this.#stats.count('expiredRemovals', expired.length);
    return expired.length;
  }

  /** Evicts up to `count` least recently used entries; resolves how many. */
  evictOldest(count: number): number {
    let evicted = 0;
    while (evicted < count && this.#popEvicting()) evicted++;
    return evicted;
  }

  /**
   * Frees memory under pressure: drops expired entries, then evicts least recently used entries
   * until at most 75% (`warning`) or 25% (`critical`) of the bytes held before remain.
   */
  shed(severity: MemoryPressureSeverity): MemoryPressureResult {
    const keep = PRESSURE_KEEP_RATIO[severity] as number | undefined;
    if (keep === undefined) throw new CacheConfigError(`severity must be 'warning' or 'critical', got ${JSON.stringify(severity)}`);
    const entriesBefore = this.#lru.size;
    const bytesBefore = this.#lru.calculatedSize;
    this.purgeExpired();
    while (this.#lru.calculatedSize > bytesBefore * keep && this.#popEvicting());
    const entriesAfter = this.#lru.size;
    return {
      entriesBefore,
      entriesRemoved: entriesBefore - entriesAfter,
      entriesAfter,
      bytesFreed: bytesBefore - this.#lru.calculatedSize,
    };
  }

  info(): CacheInfo {
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

  /** Whether the namespace accounting equals what lru-cache holds, within the limits (the L1 health probe). */
  consistent(): boolean {
    let bytes = 0;
    let entries = 0;
    for (const stats of this.#stats.namespaces.all()) {
      bytes += stats.sizeBytes;
      entries += stats.entryCount;
    }
    return (
      entries === this.#lru.size &&
      bytes === this.#lru.calculatedSize &&
      this.#lru.size <= this.#limits.maxEntries &&
      this.#lru.calculatedSize <= this.#limits.maxBytes
    );
  }

  /** lru-cache's pop() removes the least recently used entry, disposing it as an eviction. */
  #popEvicting(): boolean {
    return this.#lru.pop() !== undefined;
  }
}
