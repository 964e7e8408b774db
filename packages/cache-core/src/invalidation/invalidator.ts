import type { Logger } from '@pm/service-manager/contract';
import type { InvalidationMessage } from '../bus/invalidation-bus.js';
import type { InFlight } from '../compute/in-flight.js';
import type { L1Cache } from '../l1/l1-cache.js';
import type { CacheStats } from '../stats/counters.js';
import type { RemoteListener } from '../tiers/shared-tiers.js';
import type { InvalidationEvent } from '../types.js';
import { compilePattern } from './pattern.js';
import type { Subscriptions } from './subscriptions.js';

/**
 * Applies invalidations to this process: by pattern, by tag, from another process. Local ones
 * remove entries; remote ones soft-expire entries that have a grace window (so stale-if-error
 * still has something to serve) and remove the rest. Work under way on an affected key is
 * marked stale so its result is not cached. L1 goes first: an L2 value already handed to its
 * caller but not yet copied into L1 (see PendingWrites) is held, and removed like any entry.
 */
export class Invalidator implements RemoteListener {
  readonly #l1: L1Cache;
  readonly #inFlight: InFlight;
  readonly #stats: CacheStats;
  readonly #subscriptions: Subscriptions;
  readonly #log: Logger;

  constructor(l1: L1Cache, inFlight: InFlight, stats: CacheStats, subscriptions: Subscriptions, log: Logger) {
    this.#l1 = l1;
    this.#inFlight = inFlight;
    this.#stats = stats;
    this.#subscriptions = subscriptions;
    this.#log = log;
  }

  onMessage(message: InvalidationMessage): void {
    this.remote(message);
  }

  /** The bus was down and is back: messages may have been missed, so nothing in L1 can be trusted. */
  onResync(): void {
    this.#log.warn({ entries: this.#l1.size }, 'invalidation bus reconnected; clearing L1 since messages may have been missed');
    this.dropAll();
  }

  /** Resolves how many L1 entries it removed (or soft-expired). */
  byPattern(pattern: string, source: InvalidationEvent['source']): number {
    const compiled = compilePattern(pattern);
    const keys = this.#l1.keysMatching(compiled);
    this.#inFlight.staleMatching((key) => compiled.matches(key));
    this.#apply(keys, source);
    this.#subscriptions.notify({ pattern, keys, count: keys.length, source }, compiled);
    return keys.length;
  }

  byTags(tags: readonly string[], source: InvalidationEvent['source']): number {
    const keys = this.#l1.keysTagged(tags);
    this.#inFlight.staleTagged(tags);
    this.#apply(keys, source);
    this.#subscriptions.notify({ pattern: '', tags: [...tags], keys, count: keys.length, source });
    return keys.length;
  }

  /** Marks work under way on `key` stale (it was deleted here or elsewhere). */
  staleKey(key: string, version?: string): void {
    this.#inFlight.staleKey(key, version);
  }

  /** Drops everything this process holds (a clear, or a bus outage that may have hidden messages). */
  dropAll(): void {
    this.#l1.clear();
    this.#inFlight.staleAll();
  }

  /** Another process changed something: drop, or soft-expire, what this L1 holds of it. */
  remote(message: InvalidationMessage): void {
    switch (message.type) {
      case 'set':
        message.keys.forEach((key, i) => {
          this.#l1.softExpire(key, message.versions[i]);
          this.#inFlight.staleKey(key, message.versions[i]);
        });
        return;
      case 'delete':
        for (const key of message.keys) {
          this.#l1.delete(key);
          this.#inFlight.staleKey(key);
        }
        return;
      case 'invalidate':
        this.byPattern(message.pattern, 'remote');
        return;
      case 'tags':
        this.byTags(message.tags, 'remote');
        return;
      case 'clear':
        this.dropAll();
        return;
      case 'unlock':
        return;
    }
  }

  #apply(keys: readonly string[], source: InvalidationEvent['source']): void {
    if (source === 'local') this.#l1.removeAll(keys);
    else for (const key of keys) this.#l1.softExpire(key);
    this.#stats.count('invalidations', keys.length);
  }
}
