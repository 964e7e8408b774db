/** Stable error codes, one per error class; match on `error.code`, not on messages. */
export type CacheErrorCode =
  'E_CACHE' | 'E_CACHE_CONFIG' | 'E_CACHE_KEY' | 'E_CACHE_SERIALIZATION' | 'E_CACHE_ENTRY_TOO_LARGE' | 'E_CACHE_STORE' | 'E_CACHE_AUTH';

const PREFIX = '[cache-core] ';
const QUOTED_KEY_CHARS = 200;

/**
 * A key as error messages quote it: JSON-quoted, cut to its first 200 characters (a 10 MB key
 * must not make a 10 MB log line).
 */
export function quoteKey(key: string): string {
  return key.length <= QUOTED_KEY_CHARS
    ? JSON.stringify(key)
    : `${JSON.stringify(key.slice(0, QUOTED_KEY_CHARS))}… (${key.length} characters)`;
}

/** Base class of every error thrown by `@pm/cache-core`. Messages start with `[cache-core]`. */
export class CacheError extends Error {
  readonly code: CacheErrorCode;

  constructor(message: string, options?: { cause?: unknown; code?: CacheErrorCode }) {
    super(PREFIX + message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? 'E_CACHE';
  }
}

/** Invalid options, TTLs, limits, presets, or a conflicting `getInstance()` call. */
export class CacheConfigError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'E_CACHE_CONFIG' });
  }
}

/** A key that is not a non-empty, well-formed Unicode string. */
export class CacheKeyError extends CacheError {
  constructor(message: string) {
    super(message, { code: 'E_CACHE_KEY' });
  }
}

/** A value the cache cannot hold: `undefined`, functions, symbols, promises, circular graphs. */
export class CacheSerializationError extends CacheError {
  /** The key whose value was rejected. */
  readonly key: string;

  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(`cannot cache key ${quoteKey(key)}: ${message}`, { ...options, code: 'E_CACHE_SERIALIZATION' });
    this.key = key;
  }
}

/** An entry whose accounted size exceeds the whole byte budget (`maxMemoryMb`). */
export class CacheEntryTooLargeError extends CacheError {
  readonly key: string;
  readonly sizeBytes: number;
  readonly maxBytes: number;

  constructor(key: string, sizeBytes: number, maxBytes: number) {
    super(
      `entry ${quoteKey(key)} needs ${sizeBytes} bytes, more than the whole budget of ${maxBytes} bytes; the previous value (if any) is kept`,
      { code: 'E_CACHE_ENTRY_TOO_LARGE' },
    );
    this.key = key;
    this.sizeBytes = sizeBytes;
    this.maxBytes = maxBytes;
  }
}

/**
 * Why a store operation failed: `unreachable` (no answer, timed out), `auth` (credentials
 * refused), `refused` (the store answered but would not do it: out of memory, disk full, a
 * record too large) or `failed` (anything else). Only `refused` leaves a tier's circuit closed:
 * a store that refuses a write still serves reads.
 */
export type StoreFailure = 'unreachable' | 'auth' | 'refused' | 'failed';

/** A failure of an L2 store or the invalidation bus. */
export class CacheStoreError extends CacheError {
  readonly reason: StoreFailure;

  constructor(message: string, options?: { cause?: unknown; code?: CacheErrorCode; reason?: StoreFailure }) {
    super(message, { code: 'E_CACHE_STORE', ...options });
    this.reason = options?.reason ?? (options?.code === 'E_CACHE_AUTH' ? 'auth' : 'failed');
  }
}

/** The store refused our credentials (a wrong password or ACL user): not the same as unreachable. */
export class CacheAuthError extends CacheStoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'E_CACHE_AUTH', reason: 'auth' });
  }
}
