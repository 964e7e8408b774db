/**
 * Counters and occupancy of one namespace (or of one shared bucket of them), and the index of
 * its keys held in L1, so `invalidate('ns:*')` never scans other namespaces. The L1 room keeps
 * `entryCount`, `sizeBytes` and `keys` equal to what it holds, in one place.
 */
export class NamespaceStats {
  hits = 0;
  misses = 0;
  evictions = 0;
  entryCount = 0;
  sizeBytes = 0;
  readonly keys = new Set<string>();

  constructor(readonly name: string) {}
}

/**
 * Keys with unbounded namespaces (a hash before the first `:`) must not grow the stats without
 * bound, so past this many namespaces the rest share one bucket, reported as `(other)`.
 */
export const MAX_TRACKED_NAMESPACES = 256;

/** Maps keys to the stats of their namespace: the text before the first `:`. */
export class NamespaceRegistry {
  readonly #byName = new Map<string, NamespaceStats>();
  /** Keys without a `:`. */
  readonly #none = new NamespaceStats('(none)');
  #overflow: NamespaceStats | undefined;

  /** The stats a key is accounted under. */
  forKey(key: string): NamespaceStats {
    const colon = key.indexOf(':');
    return colon === -1 ? this.#none : this.#forName(key.slice(0, colon));
  }

  /**
   * The bucket holding the keys of namespace `name` (never created here), and whether that
   * bucket holds that namespace alone.
   */
  holding(name: string): { stats: NamespaceStats; exclusive: boolean } | undefined {
    const own = this.#byName.get(name);
    if (own !== undefined) return { stats: own, exclusive: true };
    return this.#overflow === undefined ? undefined : { stats: this.#overflow, exclusive: false };
  }

  /** Every bucket, the shared ones included. */
  *all(): Generator<NamespaceStats> {
    yield* this.#byName.values();
    yield this.#none;
    if (this.#overflow !== undefined) yield this.#overflow;
  }

  #forName(name: string): NamespaceStats {
    let stats = this.#byName.get(name);
    if (stats !== undefined) return stats;
    if (this.#byName.size >= MAX_TRACKED_NAMESPACES) return (this.#overflow ??= new NamespaceStats('(other)'));
    stats = new NamespaceStats(name);
    this.#byName.set(name, stats);
    return stats;
  }
}
