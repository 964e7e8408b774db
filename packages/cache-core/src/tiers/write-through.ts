import { ttlFor, type ResolvedCacheOptions } from '../config.js';
import { normalizeTags } from '../invalidation/tag-index.js';
import { assertKey } from '../keys.js';
import type { PreparedWrite } from '../l1/entry.js';
import type { EntrySpec, L1Cache } from '../l1/l1-cache.js';
import type { CacheStats } from '../stats/counters.js';
import type { SetOptions } from '../types.js';
import type { SharedTiers } from './shared-tiers.js';

/**
 * The write path: validate (with an L2, only values that come back from it as the same value),
 * commit to L1, then share through the tiers (into L2, announced once L2 holds it).
 */
export class WriteThrough {
  readonly #options: ResolvedCacheOptions;
  readonly #l1: L1Cache;
  readonly #stats: CacheStats;
  readonly #tiers: SharedTiers | undefined;
  /** With an L2, only values that come back from it as the same value are accepted. */
  readonly #roundTrip: boolean;

  constructor(options: ResolvedCacheOptions, l1: L1Cache, stats: CacheStats, tiers: SharedTiers | undefined) {
    this.#options = options;
    this.#roundTrip = options.l2 !== undefined;
    this.#l1 = l1;
    this.#stats = stats;
    this.#tiers = tiers;
  }

  /** How `set(key, value, options)` writes: the TTL (call, namespace or default), metadata and tags. */
  spec(key: string, options: SetOptions | undefined): EntrySpec {
    return {
      ttlMs: ttlFor(this.#options, key, options?.ttl),
      graceMs: 0,
      metadata: options?.metadata,
      isPrompt: false,
      tags: normalizeTags(options?.tags),
      version: undefined,
      roundTrip: false,
    };
  }

  /** Validates a write; nothing changes until it is committed. */
  prepare(key: string, value: unknown, spec: EntrySpec): PreparedWrite {
    assertKey(key);
    // One object literal with every field: spreading a spec here cost more than the whole lru-cache set.
    return this.#l1.prepare(key, value, {
      ttlMs: spec.ttlMs,
      graceMs: spec.graceMs,
      metadata: spec.metadata,
      isPrompt: spec.isPrompt,
      tags: spec.tags,
      version: this.#tiers?.version(),
      roundTrip: this.#roundTrip,
    });
  }

  /** Into L1 only. */
  commit(write: PreparedWrite): void {
    this.#l1.commit(write);
    this.#stats.count('sets');
  }

  /** Into L1, then shared. */
  async store(writes: readonly PreparedWrite[]): Promise<void> {
    for (const write of writes) this.commit(write);
    if (this.#tiers !== undefined) await this.#tiers.write(writes.map((write) => ({ key: write.key, entry: write.toStored() })));
  }
}
