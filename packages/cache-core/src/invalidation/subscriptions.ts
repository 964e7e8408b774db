import type { Logger } from '@pm/service-manager/contract';
import { CacheError } from '../errors.js';
import type { CacheStats } from '../stats/counters.js';
import type { InvalidationCallback, InvalidationEvent } from '../types.js';
import { compilePattern, type KeyPattern } from './pattern.js';

interface Subscription {
  readonly pattern: string;
  readonly matcher: KeyPattern;
  readonly callback: InvalidationCallback;
}

/** `onInvalidate` callbacks: which fire for an invalidation, and errors that never escape. */
export class Subscriptions {
  readonly #subscriptions = new Set<Subscription>();
  readonly #log: Logger;
  readonly #stats: CacheStats;

  constructor(log: Logger, stats: CacheStats) {
    this.#log = log;
    this.#stats = stats;
  }

  add(pattern: string, callback: InvalidationCallback): () => void {
    const matcher = compilePattern(pattern);
    if (typeof callback !== 'function') throw new CacheError('onInvalidate() needs a callback function');
    const subscription: Subscription = { pattern, matcher, callback };
    this.#subscriptions.add(subscription);
    return () => this.#subscriptions.delete(subscription);
  }

  /**
   * Calls every callback whose pattern the invalidation pattern matches (or equals), or that
   * matches a removed key. A throwing or rejecting callback is logged and counted.
   */
  notify(event: InvalidationEvent, compiled?: KeyPattern): void {
    for (const { pattern, matcher, callback } of this.#subscriptions) {
      const byPattern = compiled !== undefined && (pattern === event.pattern || compiled.matches(pattern));
      if (!byPattern && !event.keys.some((key) => matcher.matches(key))) continue;
      try {
        const result = callback(event);
        if (result instanceof Promise)
          result.catch((error: unknown) => {
            this.#failed(pattern, error);
          });
      } catch (error) {
        this.#failed(pattern, error);
      }
    }
  }

  #failed(pattern: string, error: unknown): void {
    this.#stats.callbackFailed();
    this.#log.error({ pattern, err: error }, 'an invalidation callback threw');
  }
}
