import type { LRUCache } from 'lru-cache';
import { NONE, type EntryTable } from './entry-table.js';
import { FrequencySketch, hashKey } from './frequency-sketch.js';

/** Share of the entries that form the admission window, as Caffeine starts with. */
const WINDOW_SHARE = 0.01;

/**
 * W-TinyLFU (Einziger, Friedman, Manes: "TinyLFU: A Highly Efficient Cache Admission Policy"),
 * on top of lru-cache's recency order. New entries enter a small window (1% of the entries,
 * LRU); the entry the window pushes out is a candidate for the main part, admitted only if the
 * frequency sketch has seen it more often than the main part's least recently used entry, which
 * then leaves. Otherwise the candidate leaves. A one-off scan or a loop larger than the cache
 * thus passes through the window without flushing the entries that are read again and again;
 * the window keeps recency-driven bursts working as under LRU.
 *
 * The main part is lru-cache's order without the window's entries, so no second list is kept.
 */
export class TinyLfu {
  readonly #sketch: FrequencySketch;
  readonly #table: EntryTable;
  readonly #windowMax: number;
  /** The window's slots, least recently used first (a Map keeps insertion order). */
  readonly #window = new Map<number, true>();
  /** Each slot's key hash, so a hit does not hash its key again. */
  #hashes = new Uint32Array(64);
  /** The slot the window pushed out on the last write, awaiting admission. */
  #candidate = NONE;

  constructor(maxEntries: number, table: EntryTable) {
    this.#sketch = new FrequencySketch(maxEntries);
    this.#table = table;
    this.#windowMax = Math.max(1, Math.floor(maxEntries * WINDOW_SHARE));
  }

  recordHit(slot: number): void {
    this.#sketch.increment(this.#hashes[slot]!);
    if (this.#window.delete(slot)) this.#window.set(slot, true);
  }

  /** A new entry (or a new value for a key) enters the window; the window's oldest may become the candidate. */
  admitted(slot: number, key: string): void {
    if (slot >= this.#hashes.length) {
      const grown = new Uint32Array(Math.max(slot + 1, this.#hashes.length * 2));
      grown.set(this.#hashes);
      this.#hashes = grown;
    }
    const hash = hashKey(key);
    this.#hashes[slot] = hash;
    this.#sketch.increment(hash);
    this.#window.set(slot, true);
    while (this.#window.size > this.#windowMax) {
      const oldest = this.#window.keys().next().value!;
      this.#window.delete(oldest);
      this.#candidate = oldest;
    }
  }

  /** A slot left the cache. */
  released(slot: number): void {
    this.#window.delete(slot);
    if (this.#candidate === slot) this.#candidate = NONE;
  }

  /**
   * The key to remove next while the cache is over its limits: the main part's least recently
   * used entry, or the candidate when the sketch has not seen it more often than that entry.
   * @param lruOrder keys from least to most recently used
   * @param slotOf a key's slot, without touching recency
   */
  victim(lruOrder: Iterable<string>, slotOf: (key: string) => number | undefined): string | undefined {
    const candidate = this.#candidate;
    let victim: string | undefined;
    let victimSlot = NONE;
    for (const key of lruOrder) {
      const slot = slotOf(key);
      if (slot === undefined || slot === candidate || this.#window.has(slot)) continue;
      victim = key;
      victimSlot = slot;
      break;
    }
    if (candidate !== NONE && (victim === undefined || this.#frequency(candidate) <= this.#frequency(victimSlot))) {
      this.#candidate = NONE;
      return this.#table.keys[candidate];
    }
    if (victim !== undefined) return victim;
    // Only the window is left (entries bigger than the main part's room): its oldest goes.
    const oldest = this.#window.keys().next().value;
    return oldest === undefined ? undefined : this.#table.keys[oldest];
  }

  /** Removes victims from `lru` while `overLimits()`; a candidate still there afterwards was admitted. */
  evictWhile(lru: LRUCache<string, number>, overLimits: () => boolean): void {
    try {
      while (overLimits()) {
        const victim = this.victim(lru.rkeys(), (key) => lru.peek(key));
        if (victim === undefined) break;
        lru.delete(victim);
      }
    } finally {
      this.#candidate = NONE;
    }
  }

  #frequency(slot: number): number {
    return this.#sketch.frequency(this.#hashes[slot]!);
  }
}
