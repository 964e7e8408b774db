import { ttlFor, type ResolvedCacheOptions } from '../config.js';
import { normalizeTags } from '../invalidation/tag-index.js';
import { assertKey } from '../keys.js';
import type { EntrySpec, PreparedWrite } from '../l1/entry.js';
import type { L1Cache } from '../l1/l1-cache.js';
import type { CacheStats } from '../stats/counters.js';
import { L1_SAMPLE_EVERY } from '../stats/latency.js';
import type { SetOptions } from '../types.js';
import type { InFlight } from '../compute/in-flight.js';
import type { HeldLock } from './lock-leases.js';
import type { SharedTiers } from './shared-tiers.js';

/**
 * The write path: validate (with an L2, only values that come back from it as the same value),
 * commit to L1, then share through the tiers (into L2, announced once L2 holds it). A write
 * makes work under way on its key stale: an L2 read or a computation that began before it must
 * not put an older value back over it.
 */
export class WriteThrough {
  readonly #options: ResolvedCacheOptions;
  readonly #l1: L1Cache;
  readonly #stats: CacheStats;
  readonly #tiers: SharedTiers | undefined;
  readonly #inFlight: InFlight;
  /** With an L2, only values that come back from it as the same value are accepted. */
  readonly #roundTrip: boolean;
  #untilSample = L1_SAMPLE_EVERY;

  constructor(options: ResolvedCacheOptions, l1: L1Cache, stats: CacheStats, tiers: SharedTiers | undefined, inFlight: InFlight) {
    this.#options = options;
    this.#inFlight = inFlight;
    this.#roundTrip = options.l2 !== undefined;
    this.#l1 = l1;
    this.#stats = stats;
    this.#tiers = tiers;
  }

  /** A validated `set(key, value, options)`: the TTL (call, namespace or default), metadata and tags. */
  prepareSet(key: string, value: unknown, options: SetOptions | undefined, isPrompt = false): PreparedWrite {
    assertKey(key);
    const ttlMs = ttlFor(this.#options, key, options?.ttl);
    const tags = normalizeTags(options?.tags);
    return this.#l1.prepare(key, value, { ttlMs, metadata: options?.metadata, isPrompt, tags, ...this.#shared() });
  }

  /** Validates a computed write (getOrCompute); nothing changes until it is committed. */
  prepare(key: string, value: unknown, spec: EntrySpec): PreparedWrite {
    assertKey(key);
    return this.#l1.prepare(key, value, { ...spec, ...this.#shared() });
  }

  /** What a write needs to be shared: the version it is stored as, and whether L2 must return it unchanged. */
  #shared(): { version: string | undefined; roundTrip: boolean } {
    return { version: this.#tiers?.version(), roundTrip: this.#roundTrip };
  }

  /** `setSync`: validated and written into L1 in one step (no PreparedWrite on the hot path). */
  setSync(key: string, value: unknown, options: SetOptions | undefined): void {
    assertKey(key);
    const ttlMs = ttlFor(this.#options, key, options?.ttl);
    const tags = normalizeTags(options?.tags);
    const version = this.#tiers?.version();
    const start = this.#sampleStart();
    this.#l1.write(key, value, ttlMs, 0, options?.metadata, false, tags, version, this.#roundTrip);
    this.#written(start);
    this.#inFlight.staleKey(key, version);
  }

  /** Into L1 only. */
  commit(write: PreparedWrite): void {
    const start = this.#sampleStart();
    this.#l1.commit(write);
    this.#written(start);
    this.#inFlight.staleKey(write.key, write.version);
  }

  /** One L1 write in L1_SAMPLE_EVERY is timed into the L1 set histogram: its start, or -1. */
  #sampleStart(): number {
    if (--this.#untilSample !== 0) return -1;
    this.#untilSample = L1_SAMPLE_EVERY;
    return performance.now();
  }

  #written(start: number): void {
    if (start !== -1) this.#stats.observe('l1', 'set', (performance.now() - start) / 1000);
    this.#stats.set();
  }

  /** Into L1, then shared; `lock` (held on the one key written) is released with it where the store can. */
  async store(writes: readonly PreparedWrite[], lock?: HeldLock): Promise<void> {
    for (const write of writes) this.commit(write);
    if (this.#tiers !== undefined)
      await this.#tiers.write(
        writes.map((write) => ({ key: write.key, entry: write.toStored() })),
        lock,
      );
  }
}
