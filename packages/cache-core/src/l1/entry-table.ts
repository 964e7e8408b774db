import type { CacheStats } from '../stats/counters.js';
import type { NamespaceStats } from '../stats/namespace-stats.js';

/** No slot: the end of a list. */
export const NONE = -1;

const INITIAL_CAPACITY = 64;

/**
 * The fields of every L1 entry, one typed array per field, indexed by a slot number that
 * lru-cache holds as the entry's value. One JS object per entry (key, record, boxed dates) cost
 * ~150 bytes beyond lru-cache's own ~80; these arrays cost ~50, and a read touches the same
 * few cache lines either way (see BENCHMARKS.md, "heap per entry").
 *
 * Each namespace threads its slots through `next`/`prev` (an intrusive list), so a namespace's
 * keys are found without scanning others, and adding or removing one never rehashes anything:
 * a `Set` per namespace made a hot key, deleted and re-added on every overwrite, cost ~130 µs.
 * Free slots are chained through `next` too.
 */
export class EntryTable {
  values: unknown[] = [];
  keys: (string | undefined)[] = [];
  expiresAt = new Float64Array(0);
  createdAt = new Float64Array(0);
  sizes = new Uint32Array(0);
  /**
   * Hits on the entry while held: its `accessCount`, and the only hit counter a read moves.
   * Float64 so that `++` needs no overflow check (exact to 2^53). 0 in a free slot.
   */
  accessCounts = new Float64Array(0);
  namespaceIds = new Uint16Array(0);
  next = new Int32Array(0);
  prev = new Int32Array(0);
  #capacity = 0;
  #used = 0;
  #free = NONE;
  readonly #maxSlots: number;

  /** @param maxSlots the most slots ever live at once (lru-cache's limit plus the one a write holds before its eviction). */
  constructor(maxSlots: number) {
    this.#maxSlots = maxSlots;
    this.#grow(Math.min(INITIAL_CAPACITY, maxSlots));
  }

  /** A free slot holding `value` for `key`; `link` puts it on its namespace's list. */
  allocate(key: string, value: unknown, createdAt: number, expiresAt: number, size: number): number {
    let slot = this.#free;
    if (slot !== NONE) this.#free = this.next[slot]!;
    else {
      if (this.#used === this.#capacity) this.#grow(Math.min(this.#capacity * 2, this.#maxSlots));
      slot = this.#used++;
    }
    this.values[slot] = value;
    this.keys[slot] = key;
    this.createdAt[slot] = createdAt;
    this.expiresAt[slot] = expiresAt;
    this.sizes[slot] = size;
    return slot;
  }

  link(slot: number, ns: NamespaceStats): void {
    this.namespaceIds[slot] = ns.id;
    this.prev[slot] = NONE;
    this.next[slot] = ns.head;
    if (ns.head !== NONE) this.prev[ns.head] = slot;
    ns.head = slot;
  }

  /**
   * Unlinks `slot` from its namespace and frees it; the value and key are let go, the hits it
   * took are added to the namespace's `releasedHits`.
   */
  release(slot: number, ns: NamespaceStats): void {
    const next = this.next[slot]!;
    const prev = this.prev[slot]!;
    if (prev === NONE) ns.head = next;
    else this.next[prev] = next;
    if (next !== NONE) this.prev[next] = prev;
    this.values[slot] = undefined;
    this.keys[slot] = undefined;
    this.next[slot] = this.#free;
    this.#free = slot;
    ns.releasedHits += this.accessCounts[slot]!;
    this.accessCounts[slot] = 0;
  }

  /** Slots ever handed out: every live slot is below this. */
  get used(): number {
    return this.#used;
  }

  /**
   * Adds the hits entries took since last settled to the counters: per namespace, the growth of
   * its running total (the hits of the entries held plus `releasedHits`, those of the entries
   * that left; it only grows). Entries keep no "already counted" mark, so a write or an eviction
   * touches one hit counter, not two.
   */
  settleHits(stats: CacheStats): void {
    const namespaces = stats.namespaces.all();
    const totals = new Float64Array(namespaces.length);
    for (const ns of namespaces) totals[ns.id] = ns.releasedHits;
    const { accessCounts, namespaceIds } = this;
    // Free slots count 0 hits, whatever namespace id they still carry.
    for (let slot = 0; slot < this.#used; slot++) totals[namespaceIds[slot]!]! += accessCounts[slot]!;
    for (const ns of namespaces) {
      const total = totals[ns.id]!;
      if (total !== ns.settledHits) stats.hit(ns, total - ns.settledHits);
      ns.settledHits = total;
    }
  }

  /** The keys on a namespace's list. */
  keysOf(ns: NamespaceStats): string[] {
    const keys: string[] = [];
    for (let slot = ns.head; slot !== NONE; slot = this.next[slot]!) keys.push(this.keys[slot]!);
    return keys;
  }

  #grow(capacity: number): void {
    const grown = <T extends Float64Array | Uint32Array | Uint16Array | Int32Array>(old: T, make: new (n: number) => T): T => {
      const array = new make(capacity);
      array.set(old);
      return array;
    };
    this.expiresAt = grown(this.expiresAt, Float64Array);
    this.createdAt = grown(this.createdAt, Float64Array);
    this.sizes = grown(this.sizes, Uint32Array);
    this.accessCounts = grown(this.accessCounts, Float64Array);
    this.namespaceIds = grown(this.namespaceIds, Uint16Array);
    this.next = grown(this.next, Int32Array);
    this.prev = grown(this.prev, Int32Array);
    this.#capacity = capacity;
  }
}
