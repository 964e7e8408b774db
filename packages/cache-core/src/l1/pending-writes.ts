/**
 * Writes into L1 held back until the promise jobs of the current tick have run. An L2 hit hands
 * its value to the caller first and is copied into L1 after, so a caller that reads key after
 * key from Redis sends its next command before the copy, not after it: the copy (an entry, an
 * eviction, the namespace and tag indexes) costs ~5 µs on caches gone cold during a round trip.
 *
 * No caller can see the delay: L1 applies a key's pending write before it reads, writes or
 * removes that key, and every pending write before it counts, lists or evicts entries (and
 * before the hit counters are read). A pending key is never also in L1. What removes many keys
 * (an invalidation, a clear) lists them first, or marks the reads under way stale, which drops
 * their pending writes.
 */
export class PendingWrites {
  readonly #writes = new Map<string, () => void>();
  #scheduled = false;
  readonly #flush = (): void => {
    this.#scheduled = false;
    this.applyAll();
  };

  /** Holds `apply` (the write of `key`) until the end of the tick, or until `key` is touched. */
  add(key: string, apply: () => void): void {
    // Two L2 reads of one key settled in the same tick: the older applies first, as it would have.
    this.applyKey(key);
    this.#writes.set(key, apply);
    if (this.#scheduled) return;
    this.#scheduled = true;
    process.nextTick(this.#flush);
  }

  /** Applies the pending write of `key`, if any; says whether there was one. */
  applyKey(key: string): boolean {
    if (this.#writes.size === 0) return false;
    const apply = this.#writes.get(key);
    if (apply === undefined) return false;
    this.#writes.delete(key);
    apply();
    return true;
  }

  applyAll(): void {
    if (this.#writes.size === 0) return;
    for (const [key, apply] of this.#writes) {
      this.#writes.delete(key);
      apply();
    }
  }
}
