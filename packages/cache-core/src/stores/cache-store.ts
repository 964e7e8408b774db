/** An entry as a shared tier stores it. */
export interface StoredEntry {
  value: unknown;
  /** Epoch ms after which the entry is gone; Infinity for never. */
  expiresAt: number;
  metadata?: Record<string, unknown>;
  /** Stored with `setPrompt()`. */
  prompt?: boolean;
  /** Identifies one write, so a reader can tell the value a notification announced from an older one. */
  version?: string;
  /** Tags for `invalidateTags()`. */
  tags?: string[];
}

/** A bus message as it goes on the wire, for a store to publish right after a write (see `CacheStore.setAndPublish`). */
export interface Announcement {
  readonly channel: string;
  readonly payload: string;
}

/** One key as `pm-cache keys` lists it. */
export interface KeyListing {
  key: string;
  /** Bytes the record takes in the store. */
  sizeBytes: number;
  /** Infinity for a record that never expires. */
  ttlMs: number;
}

/** A distributed lock held on a key: renewed while work runs, released when it is done. */
export interface StoreLease {
  /** Extends the lease to `ttlMs` from now; resolves false when it was lost (expired and taken). */
  renew(ttlMs: number): Promise<boolean>;
  /** Releases the lock if this lease still holds it. */
  release(): Promise<void>;
}

/**
 * A shared or persistent tier below L1 (one interface per extension point, as unstorage and
 * bentocache define their drivers). One file per driver; every driver passes
 * `describeStoreConformance` from `@pm/cache-core/testing`.
 */
export interface CacheStore {
  readonly name: string;
  get(key: string): Promise<StoredEntry | undefined>;
  set(key: string, entry: StoredEntry): Promise<void>;
  /**
   * Writes `entry`, then publishes `announcement` on the same connection, in one round trip:
   * whoever hears the message and reads the key sees this write. When it rejects, nothing was
   * published. A shared `set` uses it when the bus says its messages can go this way (the same
   * server: see `InvalidationBus.announcement`). With `lease` (one of this store's, on `key`),
   * also releases that lock in the same step where the store can; resolves whether it did.
   */
  setAndPublish?(key: string, entry: StoredEntry, announcement: Announcement, lease?: StoreLease): Promise<boolean>;
  /** Resolves true when the key existed. */
  delete(key: string): Promise<boolean>;
  mget?(keys: readonly string[]): Promise<(StoredEntry | undefined)[]>;
  /** Removes keys matching an fnmatch-style glob (the cache's own semantics); resolves how many. */
  invalidate(pattern: string): Promise<number>;
  /** Removes every entry carrying any of `tags`; resolves how many. */
  invalidateTags(tags: readonly string[]): Promise<number>;
  clear(): Promise<void>;
  connect?(): Promise<void>;
  close?(): Promise<void>;
  health(): Promise<{ ok: boolean; latencyMs?: number; error?: string }>;
  /** Removes expired or damaged records where the store does not do it itself; resolves how many. */
  cleanup?(): Promise<number>;
  /** Up to `limit` live keys matching an fnmatch-style glob, with their size and remaining TTL (`pm-cache keys`). */
  keys?(pattern: string, limit: number): Promise<KeyListing[]>;
  /** Store-specific figures for `pm-cache stats`. */
  stats?(): Promise<Record<string, number | string>>;
  /** Records that did not decode (a miss each, never an error). */
  readonly corruptions?: number;
  /**
   * Tries to take a lock on `key` for `ttlMs` (distributed single-flight); resolves its lease,
   * or undefined when another process holds it.
   */
  lock?(key: string, ttlMs: number): Promise<StoreLease | undefined>;
  /**
   * A getOrCompute miss in one round trip: the entry under `key` if there is one, else the lock
   * on it for `ttlMs` if it is free. Undefined where the store cannot do both at once (Redis
   * Cluster: the record and its lock live in different slots); the cache then reads, then locks.
   */
  readOrLock?(key: string, ttlMs: number): Promise<ReadOrLock | undefined>;
}

/**
 * What {@link CacheStore.readOrLock} found: the entry; a record it could not use (expired, damaged,
 * another release's); no record and the lock taken for the caller; no record and the lock held
 * by another process.
 */
export type ReadOrLock =
  | { found: 'entry'; entry: StoredEntry }
  | { found: 'unusable' }
  | { found: 'nothing'; lease: StoreLease }
  | { found: 'nothing'; lease: undefined };
