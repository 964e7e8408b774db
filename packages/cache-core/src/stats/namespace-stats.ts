/**
 * Counters and occupancy of one namespace (or of one shared bucket of them), and the head of
 * the list of its L1 slots, so `invalidate('ns:*')` never scans other namespaces. The L1 room
 * keeps `entryCount`, `sizeBytes` and the list equal to what it holds, in one place.
 */
export class NamespaceStats {
  hits = 0;
  misses = 0;
  evictions = 0;
  entryCount = 0;
  sizeBytes = 0;
  /** First L1 slot of this namespace's list (see EntryTable), -1 when empty. */
  head = -1;
  /** Hits taken by this namespace's L1 entries that have since left (see EntryTable.release). */
  releasedHits = 0;
  /** Hits of this namespace's L1 entries already added to `hits` and the counters (see L1Cache). */
  settledHits = 0;

  constructor(
    readonly name: string,
    /** Index in the registry, stored per L1 slot. */
    readonly id: number,
  ) {}
}

/**
 * Keys with unbounded namespaces (a hash before the first `:`) must not grow the stats without
 * bound, so past this many namespaces the rest share one bucket, reported as `(other)`.
 */
export const MAX_TRACKED_NAMESPACES = 256;

const COLON = 0x3a;

/** Maps keys to the stats of their namespace: the text before the first `:`. */
export class NamespaceRegistry {
  readonly #byName = new Map<string, NamespaceStats>();
  /** Every bucket by id. */
  readonly #byId: NamespaceStats[] = [];
  /** Keys without a `:`. */
  readonly #none = this.#add('(none)');
  #overflow: NamespaceStats | undefined;
  /** The namespace of the last key looked up: writes tend to come in runs of one namespace. */
  #last: NamespaceStats | undefined;

  /** The bucket with this id (ids come from the buckets this registry made). */
  byId(id: number): NamespaceStats {
    return this.#byId[id]!;
  }

  /** The stats a key is accounted under. */
  forKey(key: string): NamespaceStats {
    // The last namespace again (the common case) costs one character read and one prefix test;
    // its name has no ':', so the first ':' of such a key is right after it.
    const last = this.#last;
    if (last !== undefined && key.charCodeAt(last.name.length) === COLON && key.startsWith(last.name)) return last;
    const colon = key.indexOf(':');
    if (colon === -1) return this.#none;
    const stats = this.#forName(key.slice(0, colon));
    // Only a namespace's own bucket: a key in the shared (other) bucket may not start with its name.
    if (stats !== this.#overflow) this.#last = stats;
    return stats;
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
  all(): readonly NamespaceStats[] {
    return this.#byId;
  }

  #forName(name: string): NamespaceStats {
    let stats = this.#byName.get(name);
    if (stats !== undefined) return stats;
    if (this.#byName.size >= MAX_TRACKED_NAMESPACES) return (this.#overflow ??= this.#add('(other)'));
    stats = this.#add(name);
    this.#byName.set(name, stats);
    return stats;
  }

  #add(name: string): NamespaceStats {
    const stats = new NamespaceStats(name, this.#byId.length);
    this.#byId.push(stats);
    return stats;
  }
}
