import type { NamespaceStats } from '../stats/namespace-stats.js';
import type { StoredEntry } from '../stores/cache-store.js';

/** What a read yields: the value and what `getPrompt` needs. */
export interface ReadEntry {
  readonly value: unknown;
  readonly metadata: Record<string, unknown> | undefined;
  readonly isPrompt: boolean;
}

/** One entry of L1. */
export class L1Entry implements ReadEntry {
  accessCount = 0;

  constructor(
    readonly value: unknown,
    /** Accounted bytes: value, metadata, key and bookkeeping. */
    readonly size: number,
    readonly createdAt: number,
    readonly ttlMs: number,
    /** Moves earlier when another process announces a change (soft invalidation). */
    public expiresAt: number,
    /** Until when an expired entry is kept for stale-if-error (`grace`); equals expiresAt without grace. */
    readonly staleUntil: number,
    /** The namespace it is accounted under: removal needs no lookup. */
    readonly ns: NamespaceStats,
    readonly metadata: Record<string, unknown> | undefined,
    readonly isPrompt: boolean,
    readonly tags: readonly string[] | undefined,
    /** The L2 version it was written or read as, when shared. */
    readonly version: string | undefined,
  ) {}
}

/** A validated write, ready to commit: `mset` prepares every entry before committing any. */
export interface PreparedWrite {
  readonly key: string;
  readonly entry: L1Entry;
}

/** An L1 entry as the shared tiers store it. */
export function storedEntryOf({ value, expiresAt, version, metadata, isPrompt, tags }: L1Entry): StoredEntry {
  return {
    value,
    expiresAt,
    ...(version === undefined ? {} : { version }),
    ...(metadata === undefined ? {} : { metadata }),
    ...(isPrompt ? { prompt: true } : {}),
    ...(tags === undefined ? {} : { tags: [...tags] }),
  };
}
