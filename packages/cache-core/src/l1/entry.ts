import { CacheEntryTooLargeError, CacheSerializationError } from '../errors.js';
import type { StoredEntry } from '../stores/cache-store.js';
import { ENTRY_OVERHEAD_BYTES, measureValue } from './size.js';

/** What a read yields: the value and what `getPrompt` needs. */
export interface ReadEntry {
  readonly value: unknown;
  readonly metadata: Record<string, unknown> | undefined;
  readonly isPrompt: boolean;
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

/**
 * The rarer parts of an entry (metadata, tags, a version, a grace window, the prompt flag).
 * L1 stores a bare value when an entry has none of them, and this wrapper otherwise: the common
 * entry then costs no object of its own. The class is private to the package, so no cached
 * value can be mistaken for it.
 */
export class Annotated implements ReadEntry {
  constructor(
    readonly value: unknown,
    readonly metadata: Record<string, unknown> | undefined,
    readonly isPrompt: boolean,
    readonly tags: readonly string[] | undefined,
    /** The L2 version it was written or read as, when shared. */
    readonly version: string | undefined,
    /** Until when an expired entry is kept for stale-if-error (`grace`); 0 without grace. */
    readonly staleUntil: number,
  ) {}
}

/** A value stored bare, as a read returns it. */
export class BareEntry implements ReadEntry {
  readonly metadata = undefined;
  readonly isPrompt = false;
  constructor(readonly value: unknown) {}
}

/** A validated, measured write; L1 copies it into its table on commit. `mset` prepares every entry before committing any. */
export class PreparedWrite {
  constructor(
    readonly key: string,
    readonly value: unknown,
    /** Accounted bytes: value, metadata, key and bookkeeping. */
    readonly size: number,
    readonly createdAt: number,
    readonly expiresAt: number,
    /** The bare value, or the value with its annotations. */
    readonly stored: unknown,
  ) {}

  get annotations(): Annotated | undefined {
    return this.stored instanceof Annotated ? this.stored : undefined;
  }

  get version(): string | undefined {
    return this.annotations?.version;
  }

  /** The entry as the shared tiers store it. */
  toStored(): StoredEntry {
    const { value, expiresAt } = this;
    const annotations = this.annotations;
    if (annotations === undefined) return { value, expiresAt };
    const { version, metadata, isPrompt, tags } = annotations;
    return {
      value,
      expiresAt,
      ...(version === undefined ? {} : { version }),
      ...(metadata === undefined ? {} : { metadata }),
      ...(isPrompt ? { prompt: true } : {}),
      ...(tags === undefined ? {} : { tags: [...tags] }),
    };
  }
}

/**
 * The accounted bytes of an entry (value, metadata, key and bookkeeping), once the metadata's
 * shape and the value are validated (see `measureValue`).
 * @throws CacheSerializationError, CacheEntryTooLargeError
 */
export function measureEntry(
  key: string,
  value: unknown,
  metadata: Record<string, unknown> | undefined,
  roundTrip: boolean,
  maxEntryBytes: number,
): number {
  const meta: unknown = metadata;
  if (meta !== undefined && (typeof meta !== 'object' || meta === null || Array.isArray(meta))) {
    throw new CacheSerializationError(key, 'metadata must be a plain object');
  }
  // The key as V8 holds it (one byte a character for Latin-1, which keys nearly always are).
  const size =
    measureValue(key, value, roundTrip) +
    (metadata === undefined ? 0 : measureValue(key, metadata, roundTrip)) +
    key.length +
    ENTRY_OVERHEAD_BYTES;
  if (size > maxEntryBytes) throw new CacheEntryTooLargeError(key, size, maxEntryBytes);
  return size;
}

/** What L1 holds: the bare value, or the value with its annotations when it has any. */
export function storedForm(
  value: unknown,
  metadata: Record<string, unknown> | undefined,
  isPrompt: boolean,
  tags: readonly string[] | undefined,
  version: string | undefined,
  graceMs: number,
  expiresAt: number,
): unknown {
  return metadata === undefined && !isPrompt && tags === undefined && version === undefined && graceMs === 0
    ? value
    : new Annotated(value, metadata, isPrompt, tags, version, graceMs === 0 ? 0 : expiresAt + graceMs);
}
