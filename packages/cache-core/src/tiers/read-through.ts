import type { Logger } from '@pm/service-manager/contract';
import { stillFresh, type InFlight, type Ticket } from '../compute/in-flight.js';
import type { ReadEntry } from '../l1/entry.js';
import type { L1Cache } from '../l1/l1-cache.js';
import type { CacheStats } from '../stats/counters.js';
import type { StoredEntry } from '../stores/cache-store.js';
import type { LockAttempt, SharedTiers } from './shared-tiers.js';

/**
 * Reads through the tiers: L1, then L2 (when there is one), whose value is copied back into L1
 * with its remaining TTL (unless the key was removed while the read ran). Each read counts one
 * hit or one miss.
 */
export class ReadThrough {
  readonly #l1: L1Cache;
  /** Undefined without an L2. */
  readonly #tiers: SharedTiers | undefined;
  readonly #inFlight: InFlight;
  readonly #stats: CacheStats;
  readonly #log: Logger;

  constructor(l1: L1Cache, tiers: SharedTiers | undefined, inFlight: InFlight, stats: CacheStats, log: Logger) {
    this.#l1 = l1;
    this.#tiers = tiers;
    this.#inFlight = inFlight;
    this.#stats = stats;
    this.#log = log;
  }

  get(key: string): Promise<ReadEntry | undefined> {
    // Not async: an L1 miss hands back the L2 read's own promise, with no extra turns of the microtask queue.
    const hit = this.#l1.read(key);
    return hit === undefined ? this.#fromL2(key, 0, readEntry) : Promise.resolve(hit);
  }

  /** `get`, for the value alone (no entry is made for an L1 hit). */
  value(key: string): Promise<unknown> {
    const hit = this.#l1.readValue(key);
    return hit === undefined ? this.#fromL2(key, 0, valueOf) : Promise.resolve(hit);
  }

  /** The value from L2, for an L1 miss: backfills L1 and counts a hit, or counts a miss. */
  fromL2(key: string, graceMs: number): Promise<unknown> {
    return this.#fromL2(key, graceMs, valueOf);
  }

  #fromL2<R>(key: string, graceMs: number, project: (stored: StoredEntry) => R): Promise<R | undefined> {
    if (this.#tiers === undefined) {
      this.#stats.miss(key);
      return Promise.resolve(undefined);
    }
    const ticket = this.#inFlight.begin(key);
    // Handled in the step that reads L2 (no chain of its own): an L1 miss costs a round trip plus what it adds.
    return this.#tiers.read(key, (stored) => {
      if (stored === undefined) {
        this.#inFlight.end(ticket);
        this.#stats.miss(key);
        return undefined;
      }
      // Counted and copied into L1 once the caller has the value: see PendingWrites.
      this.#l1.writeSoon(key, () => {
        this.#inFlight.end(ticket);
        this.#stats.hit(this.#stats.namespaces.forKey(key));
        this.backfill(key, stored, ticket, graceMs);
      });
      return project(stored);
    });
  }

  /**
   * Under distributed single flight, after `fromL2` missed: L2 again and, if it still has
   * nothing, the lock, in one round trip where the store can. Not counted (the caller counted
   * this request already). The entry (backfilled), the lock attempt, or `unusable` (lock, then
   * re-read); undefined where the store cannot: the caller locks, then re-reads.
   */
  async rereadOrLock(
    key: string,
    graceMs: number,
    leaseMs: number,
  ): Promise<{ entry: ReadEntry } | { attempt: LockAttempt } | 'unusable' | undefined> {
    if (this.#tiers === undefined) return undefined;
    const ticket = this.#inFlight.begin(key);
    try {
      const found = await this.#tiers.readOrLock(key, leaseMs);
      if (found === undefined || found === 'unusable' || !('entry' in found)) return found;
      return { entry: this.backfill(key, found.entry, ticket, graceMs) };
    } finally {
      this.#inFlight.end(ticket);
    }
  }

  /** L2 again, without counting (the caller counted this request already): after a wait on another process's lock. */
  async reread(key: string, graceMs: number): Promise<ReadEntry | undefined> {
    if (this.#tiers === undefined) return undefined;
    const ticket = this.#inFlight.begin(key);
    try {
      return await this.#tiers.read(key, (stored) => (stored === undefined ? undefined : this.backfill(key, stored, ticket, graceMs)));
    } finally {
      this.#inFlight.end(ticket);
    }
  }

  /** Values for `keys` in order: L1 hits, then the misses from L2 in one call. */
  async many(keys: readonly string[]): Promise<(ReadEntry | undefined)[]> {
    const entries: (ReadEntry | undefined)[] = keys.map((key) => this.#l1.read(key));
    const missing = keys.filter((_, i) => entries[i] === undefined);
    if (missing.length === 0) return entries;
    const tickets = missing.map((key) => this.#inFlight.begin(key));
    try {
      const stored = this.#tiers === undefined ? [] : await this.#tiers.readMany(missing);
      let next = 0;
      return keys.map((key, i) => {
        const found = entries[i];
        if (found !== undefined) return found;
        const ticket = tickets[next];
        const record = stored[next++];
        if (record === undefined || ticket === undefined) {
          this.#stats.miss(key);
          return undefined;
        }
        this.#stats.hit(this.#stats.namespaces.forKey(key));
        return this.backfill(key, record, ticket, 0);
      });
    } finally {
      for (const ticket of tickets) this.#inFlight.end(ticket);
    }
  }

  /** Copies an L2 entry into L1 with its remaining TTL, unless the key was removed meanwhile. */
  backfill(key: string, stored: StoredEntry, ticket: Ticket, graceMs: number): ReadEntry {
    const read = readEntry(stored);
    if (!stillFresh(ticket, stored.version)) return read;
    try {
      const { value, expiresAt, metadata, prompt = false, tags, version } = stored;
      // Came from L2, so it round-trips: no need to check that again.
      this.#l1.write(key, value, expiresAt - Date.now(), graceMs, metadata, prompt, tags, version, false);
      return read;
    } catch (error) {
      // Valid in L2 but not for this L1 (too big for its budget, say): serve it, do not keep it.
      this.#log.debug({ key, err: error }, 'L2 value not copied into L1');
      return read;
    }
  }
}

const valueOf = (stored: StoredEntry): unknown => stored.value;

function readEntry(stored: StoredEntry): ReadEntry {
  return { value: stored.value, metadata: stored.metadata, isPrompt: stored.prompt === true };
}
