import type { StoredEntry } from '../stores/cache-store.js';

/** What a read yields: the value and what `getPrompt` needs. */
export interface ReadEntry {
  readonly value: unknown;
  readonly metadata: Record<string, unknown> | undefined;
  readonly isPrompt: boolean;
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
