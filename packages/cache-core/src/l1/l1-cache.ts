import { LRUCache } from 'lru-cache';
import type { KeyPattern } from '../invalidation/pattern.js';
import { TagIndex } from '../invalidation/tag-index.js';
import type { CacheStats } from '../stats/counters.js';
import type { NamespaceStats } from '../stats/namespace-stats.js';
import type { CacheInfo, EvictionPolicyName } from '../types.js';
import { CoarseClock } from './coarse-clock.js';
import { Annotated, BareEntry, measureEntry, storedForm, type EntrySpec, PreparedWrite, type ReadEntry } from './entry.js';
import { EntryTable } from './entry-table.js';
import { PendingWrites } from './pending-writes.js';
import { TinyLfu } from './tinylfu.js';

export interface L1Limits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** @default 'lru' */
  readonly eviction?: EvictionPolicyName;
}

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
  readonly #pending = new PendingWrites();
  readonly #tinyLfu: TinyLfu | undefined;
  /** The slot an overwrite just replaced (dispose runs inside lru.set). */
  #replaced = MISS;
  /** Set while TinyLFU removes entries itself, so dispose counts them as evictions. */
  #evicting = false;
  /** Accounted bytes of every entry held. */
  #bytes = 0;
  readonly #maxEntryBytes: number;

  constructor(limits: L1Limits, stats: CacheStats) {
    this.#limits = limits;
    this.#maxEntryBytes = Math.min(limits.maxBytes, MAX_ENTRY_BYTES);
    this.#stats = stats;
    stats.settleHitsWith(() => {
      this.#pending.applyAll();
      this.#table.settleHits(stats);
    });
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
    this.#pending.applyAll();
    return this.#lru.size;
  }

  get bytes(): number {
    this.#pending.applyAll();
    return this.#bytes;
  }

  /** Validates and measures a write; nothing changes until `commit`. */
  prepare(key: string, value: unknown, spec: EntrySpec): PreparedWrite {
    const { ttlMs, graceMs = 0, metadata, isPrompt = false, tags, version, roundTrip = false } = spec;
    const now = this.#clock.now();
    const size = measureEntry(key, value, metadata, roundTrip, this.#maxEntryBytes);
    const expiresAt = now + ttlMs;
    return new PreparedWrite(key, value, size, now, expiresAt, storedForm(value, metadata, isPrompt, tags, version, graceMs, expiresAt));
  }

  commit(write: PreparedWrite): void {
    this.#store(write.key, write.stored, write.size, write.createdAt, write.expiresAt);
  }

  /**
   * {@link prepare} and {@link commit} in one step, the spec spread out, allocating nothing of
   * its own: the `setSync` path. Entries are dated by the coarse clock, as reads are: one written
   * inside a long synchronous task may expire that much early (lru-cache's TTLs behave the same).
   */
  write(
    key: string,
    value: unknown,
    ttlMs: number,
    graceMs: number,
    metadata: Record<string, unknown> | undefined,
    isPrompt: boolean,
    tags: readonly string[] | undefined,
    version: string | undefined,
    roundTrip: boolean,
  ): void {
    const now = this.#clock.now();
    const size = measureEntry(key, value, metadata, roundTrip, this.#maxEntryBytes);
    const expiresAt = now + ttlMs;
    this.#store(key, storedForm(value, metadata, isPrompt, tags, version, graceMs, expiresAt), size, now, expiresAt);
  }

  /** A write applied at the end of the tick, or before anything touches `key` (see {@link PendingWrites}). */
  writeSoon(key: string, apply: () => void): void {
    this.#pending.add(key, apply);
  }

  #store(key: string, stored: unknown, size: number, createdAt: number, expiresAt: number): void {
    this.#pending.applyKey(key);
    const table = this.#table;
    // One lookup whether the key is new or not: an overwrite shows up as lru-cache disposing the
    // old slot (reason 'set') inside this set, and that slot is released below.
    const slot = table.allocate(key, stored, createdAt, expiresAt, size);
    this.#replaced = MISS;
    this.#lru.set(key, slot);
    const replaced = this.#replaced;
    // An overwrite keeps its namespace: no string work for a rewritten key.
    const namespaces = this.#stats.namespaces;
    const ns = replaced === MISS ? namespaces.forKey(key) : this.#namespaceOf(replaced);
    table.link(slot, ns);
    ns.entryCount++;
    ns.sizeBytes += size;
    this.#bytes += size;
    const tags = stored instanceof Annotated ? stored.tags : undefined;
    if (replaced !== MISS) {
      const oldTags = this.#tagsAt(replaced);
      if (tags !== oldTags) this.#tags.replace(key, oldTags, tags);
      this.#release(replaced, ns);
    } else if (tags !== undefined) this.#tags.replace(key, undefined, tags);
    if (this.#tinyLfu !== undefined) {
      this.#tinyLfu.admitted(slot, key);
      this.#enforceTinyLfu();
    } else while (this.#bytes > this.#limits.maxBytes && this.#popEvicting());
  }

  /**
   * The value of a live entry (counting a hit, refreshing recency), or undefined: misses are
   * counted by the caller, which may still ask L2. The hot path of `getSync`.
   */
  readValue(key: string): unknown {
    const now = this.#clock.cached;
    if (now === 0) return this.#timedRead(key);
    // #lookup written out: one call level less lets V8 inline lru-cache's get into getSync.
    const slot = this.#lru.get(key);
    if (slot === undefined) return this.#pending.applyKey(key) ? this.readValue(key) : undefined;
    const table = this.#table;
    if (table.expiresAt[slot]! <= now) {
      this.#expired(key, slot);
      return undefined;
    }
    this.#counted(slot);
    const stored = table.values[slot];
    return stored instanceof Annotated ? stored.value : stored;
  }

  /**
   * `readValue`, timed into the L1 get histogram: the first read of each millisecond (when the
   * coarse clock is read again), so a busy cache times ~1000 reads a second and the others pay
   * nothing for it.
   */
  #timedRead(key: string): unknown {
    const start = performance.now();
    const slot = this.#lookup(key);
    const value = slot === MISS ? undefined : this.#entryAt(slot).value;
    this.#stats.observe('l1', 'get', (performance.now() - start) / 1000);
    return value;
  }

  /** A live entry with its metadata, as `readValue` counts it. */
  read(key: string): ReadEntry | undefined {
    const slot = this.#lookup(key);
    return slot === MISS ? undefined : this.#entryAt(slot);
  }

  /** Whether a live entry exists; neither a hit nor a miss, recency untouched. */
  has(key: string): boolean {
    this.#pending.applyKey(key);
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
    this.#pending.applyKey(key);
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
    this.#pending.applyKey(key);
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
    this.#pending.applyAll();
    if (pattern.literal) return this.#lru.has(pattern.prefix, { updateAgeOnHas: false }) ? [pattern.prefix] : [];
    if (pattern.namespace === undefined) return [...this.#lru.keys()].filter((key) => pattern.matches(key));
    const bucket = this.#stats.namespaces.holding(pattern.namespace);
    if (bucket === undefined) return [];
    const keys = this.#table.keysOf(bucket.stats);
    return pattern.wholeNamespace && bucket.exclusive ? keys : keys.filter((key) => pattern.matches(key));
  }

  keysTagged(tags: readonly string[]): string[] {
    this.#pending.applyAll();
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
    this.#pending.applyAll();
    let evicted = 0;
    while (evicted < count && this.#popEvicting()) evicted++;
    return evicted;
  }

  info(): CacheInfo {
    this.#pending.applyAll();
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
    if (slot === undefined) return this.#pending.applyKey(key) ? this.#lookup(key) : MISS;
    if (this.#table.expiresAt[slot]! <= this.#clock.now()) {
      this.#expired(key, slot);
      return MISS;
    }
    this.#counted(slot);
    return slot;
  }

  /** A hit on `slot`: its access count (the counters take it later, see CacheStats) and the frequency sketch. */
  #counted(slot: number): void {
    this.#table.accessCounts[slot]! += 1;
    this.#tinyLfu?.recordHit(slot);
  }

  #namespaceOf(slot: number): NamespaceStats {
    return this.#stats.namespaces.byId(this.#table.namespaceIds[slot]!);
  }

  /** Frees the slot of an entry that left (its hits are settled with the namespace's). */
  #release(slot: number, ns: NamespaceStats): void {
    this.#tinyLfu?.released(slot);
    this.#table.release(slot, ns);
  }

  /** An expired entry was read: removed (a miss and an expired removal) unless kept for grace. */
  #expired(key: string, slot: number): void {
    if (this.#staleUntil(slot) <= Date.now()) {
      this.#lru.delete(key);
      this.#stats.count('expiredRemovals');
    }
  }

  #entryAt(slot: number): ReadEntry {
    const stored = this.#table.values[slot];
    return stored instanceof Annotated ? stored : new BareEntry(stored);
  }

  #annotationsAt(slot: number): Annotated | undefined {
    const stored = this.#table.values[slot];
    return stored instanceof Annotated ? stored : undefined;
  }

  /**
   * The tags of the entry in `slot`. An empty index answers for an untagged cache without reading
   * the entry (a cold cache line when it is being evicted).
   */
  #tagsAt(slot: number): readonly string[] | undefined {
    return this.#tags.isEmpty ? undefined : this.#annotationsAt(slot)?.tags;
  }

  #staleUntil(slot: number): number {
    return Math.max(this.#table.expiresAt[slot]!, this.#annotationsAt(slot)?.staleUntil ?? 0);
  }

  #disposed(slot: number, key: string, reason: LRUCache.DisposeReason): void {
    const table = this.#table;
    const ns = this.#namespaceOf(slot);
    ns.entryCount--;
    ns.sizeBytes -= table.sizes[slot]!;
    this.#bytes -= table.sizes[slot]!;
    if (reason === 'set') {
      // An overwrite: commit moves the tags and frees the slot once the new one is in.
      this.#replaced = slot;
      return;
    }
    const tags = this.#tagsAt(slot);
    if (tags !== undefined) this.#tags.replace(key, tags, undefined);
    this.#release(slot, ns);
    if (reason === 'evict' || this.#evicting) this.#stats.evicted(ns);
  }

  /** After a write in TinyLFU mode: the policy chooses what leaves until the limits hold again. */
  #enforceTinyLfu(): void {
    this.#evicting = true;
    try {
      this.#tinyLfu!.evictWhile(this.#lru, () => this.#lru.size > this.#limits.maxEntries || this.#bytes > this.#limits.maxBytes);
    } finally {
      this.#evicting = false;
    }
  }

  /** lru-cache's pop() removes the least recently used entry, disposing it as an eviction. */
  #popEvicting(): boolean {
    return this.#lru.pop() !== undefined;
  }
}
