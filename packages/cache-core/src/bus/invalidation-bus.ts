import type { Announcement, CacheStore } from '../stores/cache-store.js';

/**
 * What the bus carries between processes (protocol v2): each message says what happened, so a
 * receiver can drop, or soft-expire, exactly what it holds of it.
 */
export type InvalidationMessage =
  /** These keys were written; `versions[i]` identifies the new value of `keys[i]` in L2. */
  | { type: 'set'; keys: string[]; versions: string[] }
  /** These keys were deleted (or their L2 record removed after a failed write). */
  | { type: 'delete'; keys: string[] }
  /** Every key matching this fnmatch-style glob was removed. */
  | { type: 'invalidate'; pattern: string }
  /** Every entry carrying any of these tags was removed. */
  | { type: 'tags'; tags: string[] }
  /** Everything was removed. */
  | { type: 'clear' }
  /** A distributed lock on these keys was released without a value: processes waiting on it try again. */
  | { type: 'unlock'; keys: string[] };

export type InvalidationMessageType = InvalidationMessage['type'];
export const INVALIDATION_MESSAGE_TYPES: readonly InvalidationMessageType[] = ['set', 'delete', 'invalidate', 'tags', 'clear', 'unlock'];

/** How a cache hears from the bus. */
export interface InvalidationHandlers {
  /** A message from another instance (never this instance's own). */
  onMessage: (message: InvalidationMessage) => void;
  /** The bus was down and is back: messages may have been missed meanwhile. */
  onReconnect: () => void;
}

/**
 * Cross-process invalidation: every instance drops its L1 copies of what another one changed.
 * One interface per extension point; `RedisInvalidationBus` is the driver this package ships.
 */
export interface InvalidationBus {
  readonly name: string;
  connect(): Promise<void>;
  close(): Promise<void>;
  publish(message: InvalidationMessage): Promise<void>;
  subscribe(handlers: InvalidationHandlers): void;
  readonly connected: boolean;
  /** Why the bus is not connected, credentials redacted (for health messages). */
  readonly problem?: string | undefined;
  /**
   * `message` as this bus would send it, when `store` can publish it for the bus (the same
   * server): a shared write and its announcement then cost one round trip. Undefined otherwise.
   */
  announcement?(message: InvalidationMessage, store: CacheStore): Announcement | undefined;
}

/** Validates a message that came over the wire; undefined for anything malformed. */
export function parseMessage(value: unknown): InvalidationMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  const strings = (list: unknown): list is string[] => Array.isArray(list) && list.every((item) => typeof item === 'string');
  switch (message.type) {
    case 'set':
      return strings(message.keys) && strings(message.versions) && message.keys.length === message.versions.length
        ? { type: 'set', keys: message.keys, versions: message.versions }
        : undefined;
    case 'delete':
    case 'unlock':
      return strings(message.keys) ? { type: message.type, keys: message.keys } : undefined;
    case 'invalidate':
      return typeof message.pattern === 'string' && message.pattern !== '' ? { type: 'invalidate', pattern: message.pattern } : undefined;
    case 'tags':
      return strings(message.tags) ? { type: 'tags', tags: message.tags } : undefined;
    case 'clear':
      return { type: 'clear' };
    default:
      return undefined;
  }
}
