import { LRUCache } from 'lru-cache';
import { CacheConfigError, CacheEntryTooLargeError, CacheSerializationError } from '../errors.js';
import type { KeyPattern } from '../invalidation/pattern.js';
import { TagIndex } from '../invalidation/tag-index.js';
import type { CacheStats } from '../stats/counters.js';
import type { CacheInfo, EvictionPolicyName, MemoryPressureResult, MemoryPressureSeverity } from '../types.js';
import { CoarseClock } from './coarse-clock.js';
import { Annotated, BareEntry, PreparedWrite, type ReadEntry } from './entry.js';
import { EntryTable } from './entry-table.js';
import { ENTRY_OVERHEAD_BYTES, measureValue, utf8Bytes } from './size.js';
import { TinyLfu } from './tinylfu.js';

export interface L1Limits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** @default 'lru' */
  readonly eviction?: EvictionPolicyName;
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

/** Entry sizes are kept in a Uint32Array. */
const MAX_ENTRY_BYTES = 0xffffffff;

/** No entry: what `#lookup` returns on a miss. */
const MISS = -1;

/**
 * The in-process tier on `lru-cache`, which holds each key's slot in an {@link EntryTable}:
 * entry and byte limits, least-recently-used eviction (or W-TinyLFU admission in front of it),
 * expiry, the namespace and tag indexes. Every addition to and removal from the accounting
 * happens here, in `commit` and in lru-cache's `dispose`, so what is counted is what is held.
 */
export class L1Cache {
  readonly #lru: LRUCache<string, number>;
  readonly #table: EntryTable;
  readonly #stats: CacheStats;
  readonly #limits: L1Limits;
  readonly #clock = new CoarseClock();
  readonly #tags = new TagIndex();
  readonly #tinyLfu: TinyLfu | undefined;
  /** The slot an overwrite just replaced (dispose runs inside lru.set). */
  #replaced = MISS;
  /** Set while TinyLFU removes entries itself, so dispose counts them as evictions. */
  #evicting = false;
  /** Accounted bytes of every entry held. */
  #bytes = 0;

  constructor(limits: L1Limits, stats: CacheStats) {
    this.#limits = limits;
    this.#stats = stats;
    // One slot more than entries: a write holds its new slot before lru-cache evicts the old one.
    this.#table = new EntryTable(limits.maxEntries + 1);
    const dispose = (slot: number, key: string, reason: LRUCache.DisposeReason): void => {
      this.#disposed(slot, key, reason);
    };
    // Bytes are counted here, not by lru-cache (its sizes array would cost 8 bytes an entry more).
    // Under TinyLFU the policy chooses what leaves, so lru-cache's own limit is one it never reaches.
    this.#tinyLfu = limits.eviction === 'tinylfu' ? new TinyLfu(limits.maxEntries, this.#table) : undefined;
    this.#lru = new LRUCache<string, number>({ max: limits.maxEntries + (this.#tinyLfu === undefined ? 0 : 1), dispose });
  }

  get size(): number {
    return this.#lru.size;
  }

  get bytes(): number {
    return this.#bytes;
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
    const maxBytes = Math.min(this.#limits.maxBytes, MAX_ENTRY_BYTES);
    if (size > maxBytes) throw new CacheEntryTooLargeError(key, size, maxBytes);
    const now = Date.now();
    const expiresAt = now + spec.ttlMs;
    const graceMs = spec.graceMs ?? 0;
    const stored =
      spec.metadata === undefined && spec.isPrompt !== true && spec.tags === undefined && spec.version === undefined && graceMs === 0
        ? value
        : new Annotated(value, spec.metadata, spec.isPrompt === true, spec.tags, spec.version, graceMs === 0 ? 0 : expiresAt + graceMs);
    return new PreparedWrite(key, value, size, now, expiresAt, this.#stats.namespaces.forKey(key), stored);
  }

  commit(write: PreparedWrite): void {
    const { key, ns, size } = write;
    const slot = this.#table.allocate(key, write.stored, ns, write.createdAt, write.expiresAt, size);
    this.#replaced = MISS;
    this.#lru.set(key, slot);
    const replaced = this.#replaced;
    this.#replaced = MISS;
    ns.entryCount++;
    ns.sizeBytes += size;
    this.#bytes += size;
    const tags = write.annotations?.tags;
    const oldTags = replaced === MISS ? undefined : this.#annotationsAt(replaced)?.tags;
    if (replaced !== MISS) {
      this.#tinyLfu?.released(replaced);
      this.#table.release(replaced, this.#stats.namespaces.byId(this.#table.namespaceIds[replaced]!));
    }
    if (tags !== oldTags) this.#tags.replace(key, oldTags, tags);
    if (this.#tinyLfu !== undefined) this.#enforceTinyLfu(slot, key);
    else while (this.#bytes > this.#limits.maxBytes && this.#popEvicting());
  }

  /**
   * The value of a live entry (counting a hit, refreshing recency), or undefined: misses are
   * counted by the caller, which may still ask L2. The hot path of `getSync`.
   */
  readValue(key: string): unknown {
    const slot = this.#lookup(key);
    if (slot === MISS) return undefined;
    const stored = this.#table.values[slot];
    return stored instanceof Annotated ? stored.value : stored;
  }

  /** A live entry with its metadata, as `readValue` counts it. */
  read(key: string): ReadEntry | undefined {
    const slot = this.#lookup(key);
    return slot === MISS ? undefined : this.#entryAt(slot);
  }

  /** Whether a live entry exists; neither a hit nor a miss, recency untouched. */
  has(key: string): boolean {
    const slot = this.#lru.peek(key);
    return slot !== undefined && this.#table.expiresAt[slot]! > Date.now();
  }

  /** An expired entry still inside `graceMs` of its expiry (stale-if-error), or undefined. */
  stale(key: string, graceMs: number): ReadEntry | undefined {
    const slot = this.#lru.peek(key);
    if (slot === undefined || graceMs === 0) return undefined;
    const staleUntil = this.#annotationsAt(slot)?.staleUntil ?? 0;
    return Date.now() < Math.min(staleUntil, this.#table.expiresAt[slot]! + graceMs) ? this.#entryAt(slot) : undefined;
  }

  delete(key: string): Removal {
    const slot = this.#lru.peek(key);
    if (slot === undefined) return undefined;
    const live = this.#table.expiresAt[slot]! > Date.now();
    this.#lru.delete(key);
    if (live) return 'live';
    this.#stats.count('expiredRemovals');
    return 'expired';
  }

  /**
   * Another process changed `key`: an entry with a grace window is marked expired (kept for
   * stale-if-error, as bentocache's bus does), any other is dropped. An entry that already is
   * the announced version stays.
   */
  softExpire(key: string, version?: string): void {
    const slot = this.#lru.peek(key);
    if (slot === undefined) return;
    const annotations = this.#annotationsAt(slot);
    if (version !== undefined && annotations?.version === version) return;
    const now = Date.now();
    const expiresAt = this.#table.expiresAt[slot]!;
    if (annotations !== undefined && annotations.staleUntil > now && annotations.staleUntil > expiresAt)
      this.#table.expiresAt[slot] = Math.min(expiresAt, now);
    else this.#lru.delete(key);
  }

  /** Keys matching a pattern; a pattern that fixes the namespace only looks at that namespace's keys. */
  keysMatching(pattern: KeyPattern): string[] {
    if (pattern.literal) return this.#lru.has(pattern.prefix, { updateAgeOnHas: false }) ? [pattern.prefix] : [];
    if (pattern.namespace === undefined) return [...this.#lru.keys()].filter((key) => pattern.matches(key));
    const bucket = this.#stats.namespaces.holding(pattern.namespace);
    if (bucket === undefined) return [];
    const keys = this.#table.keysOf(bucket.stats);
    return pattern.wholeNamespace && bucket.exclusive ? keys : keys.filter((key) => pattern.matches(key));
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
    for (const [key, slot] of this.#lru.entries()) if (this.#staleUntil(slot) <= now) expired.push(key);
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
    const bytesBefore = this.#bytes;
    this.purgeExpired();
    while (this.#bytes > bytesBefore * keep && this.#popEvicting());
    const entriesAfter = this.#lru.size;
    return {
      entriesBefore,
      entriesRemoved: entriesBefore - entriesAfter,
      entriesAfter,
      bytesFreed: bytesBefore - this.#bytes,
    };
  }

  info(): CacheInfo {
    const now = Date.now();
    const table = this.#table;
    const entries = [...this.#lru.entries()].map(([key, slot]) => ({
      key,
      ageMs: now - table.createdAt[slot]!,
      accessCount: table.accessCounts[slot]!,
      sizeBytes: table.sizes[slot]!,
      ttlMs: table.expiresAt[slot]! - table.createdAt[slot]!,
      metadata: { ...this.#annotationsAt(slot)?.metadata },
    }));
    return { totalEntries: this.#lru.size, totalSizeBytes: this.#bytes, entries };
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
      bytes === this.#bytes &&
      this.#lru.size <= this.#limits.maxEntries &&
      this.#bytes <= this.#limits.maxBytes
    );
  }

  /** The slot of a live entry, counting a hit and refreshing recency; an expired one is removed unless kept for grace. */
  #lookup(key: string): number {
    const slot = this.#lru.get(key);
    if (slot === undefined) return MISS;
    const table = this.#table;
    if (table.expiresAt[slot]! > this.#clock.now()) {
      table.countAccess(slot);
      this.#tinyLfu?.recordHit(slot);
      this.#stats.hit(this.#stats.namespaces.byId(table.namespaceIds[slot]!));
      return slot;
    }
    if (this.#staleUntil(slot) <= Date.now()) {
      this.#lru.delete(key);
      this.#stats.count('expiredRemovals');
    }
    return MISS;
  }

  #entryAt(slot: number): ReadEntry {
    const stored = this.#table.values[slot];
    return stored instanceof Annotated ? stored : new BareEntry(stored);
  }

  #annotationsAt(slot: number): Annotated | undefined {
    const stored = this.#table.values[slot];
    return stored instanceof Annotated ? stored : undefined;
  }

  #staleUntil(slot: number): number {
    return Math.max(this.#table.expiresAt[slot]!, this.#annotationsAt(slot)?.staleUntil ?? 0);
  }

  #disposed(slot: number, key: string, reason: LRUCache.DisposeReason): void {
    const table = this.#table;
    const ns = this.#stats.namespaces.byId(table.namespaceIds[slot]!);
    ns.entryCount--;
    ns.sizeBytes -= table.sizes[slot]!;
    this.#bytes -= table.sizes[slot]!;
    if (reason === 'set') {
      // An overwrite: commit moves the tags and frees the slot once the new one is in.
      this.#replaced = slot;
      return;
    }
    const tags = this.#annotationsAt(slot)?.tags;
    if (tags !== undefined) this.#tags.replace(key, tags, undefined);
    this.#tinyLfu?.released(slot);
    table.release(slot, ns);
    if (reason === 'evict' || this.#evicting) this.#stats.evicted(ns);
  }

  /** After a write in TinyLFU mode: the policy chooses what leaves until the limits hold again. */
  #enforceTinyLfu(slot: number, key: string): void {
    const policy = this.#tinyLfu!;
    policy.admitted(slot, key);
    this.#evicting = true;
    try {
      while (this.#lru.size > this.#limits.maxEntries || this.#bytes > this.#limits.maxBytes) {
        const victim = policy.victim(this.#lru.rkeys(), (k) => this.#lru.peek(k));
        if (victim === undefined) break;
        this.#lru.delete(victim);
      }
    } finally {
      this.#evicting = false;
      policy.settled();
    }
  }

  /** lru-cache's pop() removes the least recently used entry, disposing it as an eviction. */
  #popEvicting(): boolean {
    return this.#lru.pop() !== undefined;
  }
}
