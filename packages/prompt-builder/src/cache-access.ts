import { CacheSerializationError, type SharedPromptCache } from '@pm/cache-core';
import type { Duration, Logger } from '@pm/service-manager/contract';

/** Carries an error thrown by the compute function through the cache, to tell it from a cache failure. */
class ComputeFailure extends Error {
  constructor(readonly error: unknown) {
    super('compute failed', { cause: error });
  }
}

/**
 * The shared cache as an optimisation, never a dependency: without a cache every call computes;
 * when the cache throws, the failure is logged once and the call computes, uncached.
 */
export class CacheAccess {
  readonly #cache: SharedPromptCache | undefined;
  readonly #log: Logger;
  readonly #owner: string;
  #warned = false;

  constructor(cache: SharedPromptCache | undefined, logger: Logger, owner: string) {
    this.#cache = cache;
    this.#log = logger;
    this.#owner = owner;
    if (cache === undefined) this.#warn(undefined);
  }

  /** Whether a cache was provided. */
  get enabled(): boolean {
    return this.#cache !== undefined;
  }

  get cache(): SharedPromptCache | undefined {
    return this.#cache;
  }

  /** The cached value, or `compute`'s, cached with `ttl` and the tags `tags(value)` gives. */
  async getOrCompute<T>(key: string, compute: () => Promise<T>, ttl: Duration, tags?: (value: T) => readonly string[]): Promise<T> {
    if (this.#cache === undefined) return compute();
    try {
      return await this.#cache.getOrCompute(
        key,
        async () => {
          try {
            return await compute();
          } catch (error) {
            throw new ComputeFailure(error);
          }
        },
        tags === undefined ? { ttl } : { ttl, tags },
      );
    } catch (failure) {
      if (failure instanceof ComputeFailure) throw failure.error;
      // A value that cannot be cached is a bug in what was built, not a cache outage: computing
      // it again for each caller would not help.
      if (failure instanceof CacheSerializationError) throw failure;
      this.#warn(failure);
      return compute();
    }
  }

  /** Removes entries carrying any of `tags` (here and in every process); 0 without a cache or when the cache fails. */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    if (this.#cache === undefined) return 0;
    try {
      return await this.#cache.invalidateTags(tags);
    } catch (error) {
      this.#warn(error);
      return 0;
    }
  }

  /** Removes keys matching `pattern`; 0 without a cache or when the cache fails. */
  async invalidate(pattern: string): Promise<number> {
    if (this.#cache === undefined) return 0;
    try {
      return await this.#cache.invalidate(pattern);
    } catch (error) {
      this.#warn(error);
      return 0;
    }
  }

  #warn(error: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    if (error === undefined) this.#log.warn({ owner: this.#owner }, `${this.#owner}: no shared prompt cache registered; working uncached`);
    else
      this.#log.warn(
        { owner: this.#owner, err: error },
        `${this.#owner}: the shared prompt cache failed; working uncached for this call (warned once)`,
      );
  }
}
