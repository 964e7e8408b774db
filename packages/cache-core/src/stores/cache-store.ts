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
}

/** A shared or persistent tier below L1. One file per driver; every driver passes the conformance suite. */
export interface CacheStore {
  readonly name: string;
  get(key: string): Promise<StoredEntry | undefined>;
  set(key: string, entry: StoredEntry): Promise<void>;
  /** Resolves true when the key existed. */
  delete(key: string): Promise<boolean>;
  mget?(keys: readonly string[]): Promise<(StoredEntry | undefined)[]>;
  /** Removes keys matching an fnmatch-style glob (the cache's own semantics); resolves how many. */
  invalidate(pattern: string): Promise<number>;
  clear(): Promise<void>;
  connect?(): Promise<void>;
  close?(): Promise<void>;
  health(): Promise<{ ok: boolean; latencyMs?: number; error?: string }>;
  /** Removes expired or damaged records where the store does not do it itself; resolves how many. */
  cleanup?(): Promise<number>;
  /** Store-specific figures for `pm-cache stats`. */
  stats?(): Promise<Record<string, number | string>>;
  /**
   * Tries to take a short lock for `key` (distributed single-flight); resolves a release
   * function, or undefined when another process holds it.
   */
  lock?(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
}

/** What the bus carries between processes. */
export type InvalidationMessage =
  /** The keys changed (`versions[i]` is the new value's version) or were deleted (no versions). */
  | { type: 'delete'; keys: string[]; versions?: string[] }
  | { type: 'invalidate'; pattern: string }
  | { type: 'clear' };

/** Cross-process invalidation: every instance drops its L1 copies of what another one changed. */
export interface InvalidationBus {
  readonly name: string;
  connect(): Promise<void>;
  close(): Promise<void>;
  publish(message: InvalidationMessage): Promise<void>;
  /**
   * `onMessage` gets messages of other instances (never this instance's own); `onReconnect`
   * runs after the bus was down, when messages may have been missed.
   */
  subscribe(handlers: { onMessage: (message: InvalidationMessage) => void; onReconnect: () => void }): void;
  readonly connected: boolean;
}
