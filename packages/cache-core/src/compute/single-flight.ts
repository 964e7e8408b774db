import type { Logger } from '@pm/service-manager/contract';
import { CacheEntryTooLargeError } from '../errors.js';
import { normalizeTags } from '../invalidation/tag-index.js';
import type { EntrySpec, PreparedWrite } from '../l1/entry.js';
import type { L1Cache } from '../l1/l1-cache.js';
import type { CacheStats } from '../stats/counters.js';
import type { ReadThrough } from '../tiers/read-through.js';
import type { HeldLock } from '../tiers/lock-leases.js';
import type { LockAttempt, SharedTiers } from '../tiers/shared-tiers.js';
import { namespaceOf, traced, type TracedSpan } from '../stats/tracing.js';
import type { InFlight, Ticket } from './in-flight.js';

/** What the compute room needs from the cache around it. */
export interface ComputeContext {
  readonly l1: L1Cache;
  readonly stats: CacheStats;
  readonly inFlight: InFlight;
  readonly log: Logger;
  readonly tiers: SharedTiers | undefined;
  readonly readThrough: ReadThrough | undefined;
  /** Lease of the distributed lock, when distributed single-flight is on. */
  readonly lockLeaseMs: number | undefined;
  prepare(key: string, value: unknown, spec: EntrySpec): PreparedWrite;
  /** Commits a write to L1 and shares it with the tiers (releasing `lock` with it, where the store can). */
  store(write: PreparedWrite, lock?: HeldLock): Promise<void>;
}

export interface ComputeSpec {
  readonly ttlMs: number;
  readonly graceMs: number;
  /** Tags, or a function of the computed value that gives them. */
  readonly tags: readonly string[] | ((value: unknown) => readonly string[]) | undefined;
}

interface Flight {
  readonly promise: Promise<unknown>;
}

/** Past this long waiting on another process's lock, a waiter computes itself (a hung holder). */
const MIN_LOCK_WAIT_MS = 60_000;

/**
 * Single-flight `getOrCompute`: one compute per key in this process, and (with distributed
 * single-flight) one across processes, the others waiting for its value — woken by the bus
 * message that announces it, not by polling. A failure reaches every waiter, caches nothing, and
 * falls back to a value within its grace window (stale-if-error).
 */
export class SingleFlight {
  readonly #ctx: ComputeContext;
  readonly #flights = new Map<string, Flight>();

  constructor(context: ComputeContext) {
    this.#ctx = context;
  }

  /** The running flight for `key`, if any. */
  running<T>(key: string): Promise<T> | undefined {
    return this.#flights.get(key)?.promise as Promise<T> | undefined;
  }

  /** Starts the flight for an L1 miss. */
  start<T>(key: string, compute: () => T | Promise<T>, spec: ComputeSpec): Promise<T> {
    const ticket = this.#ctx.inFlight.begin(key, typeof spec.tags === 'function' ? 'dynamic' : spec.tags);
    const promise = traced('cache.getOrCompute', { 'cache.namespace': namespaceOf(key), 'cache.hit': false }, (span) =>
      this.#fly(key, compute, spec, ticket, span),
    ).finally(() => {
      if (this.#flights.get(key)?.promise === promise) this.#flights.delete(key);
      this.#ctx.inFlight.end(ticket);
    });
    this.#flights.set(key, { promise });
    return promise;
  }

  async #fly<T>(key: string, compute: () => T | Promise<T>, spec: ComputeSpec, ticket: Ticket, span: TracedSpan): Promise<T> {
    const { readThrough, tiers } = this.#ctx;
    const fromL2 = (value: unknown): T => {
      span.set({ 'cache.hit': true, 'cache.tier': 'l2', 'cache.result': 'hit' });
      return value as T;
    };
    if (readThrough === undefined || tiers === undefined) {
      this.#ctx.stats.miss(key);
      return (await this.#computeAndStore(key, compute, spec, ticket, span)).value;
    }
    // Most L1 misses are L2 hits (another process wrote the key): a plain read, cheaper for the
    // store than a read-and-lock script. Only a real miss pays for the lock.
    const shared = await readThrough.fromL2(key, spec.graceMs);
    if (shared !== undefined) return fromL2(shared);
    const leaseMs = this.#ctx.lockLeaseMs;
    if (leaseMs === undefined) return (await this.#computeAndStore(key, compute, spec, ticket, span)).value;
    // Watched before the first lock attempt: the holder's message may arrive before the reply
    // that says the lock is taken, and must wake this caller, not be lost.
    const watch = tiers.watchChanges(key);
    try {
      // Where the store can, reading again and taking the lock are one round trip.
      let attempt: LockAttempt | undefined;
      const first = await readThrough.rereadOrLock(key, spec.graceMs, leaseMs);
      if (first !== undefined && first !== 'unusable') {
        if ('entry' in first) return fromL2(first.entry.value);
        attempt = first.attempt;
      }
      // A lock taken with the read saw no record, atomically: no need to re-read before computing.
      let reread = attempt === undefined;
      const waitUntil = Date.now() + Math.max(MIN_LOCK_WAIT_MS, 6 * leaseMs);
      for (;;) {
        attempt ??= await tiers.lock(key, leaseMs);
        if (attempt.held) return await this.#holding(attempt, reread, key, compute, spec, ticket, span);
        if (attempt.reason === 'unavailable' || Date.now() >= waitUntil) {
          if (attempt.reason === 'taken')
            this.#ctx.log.warn({ key }, 'waited too long on another process computing this key; computing here');
          return (await this.#computeAndStore(key, compute, spec, ticket, span)).value;
        }
        span.set({ 'cache.lock.waited': true });
        await watch.next(leaseMs);
        const stored = await readThrough.reread(key, spec.graceMs);
        if (stored !== undefined) return fromL2(stored.value);
        attempt = undefined;
        reread = true;
      }
    } finally {
      watch.close();
    }
  }

  /** Holding the lock: re-reads L2 when asked (the previous holder may just have stored the value), else computes and stores. */
  async #holding<T>(
    attempt: HeldLock,
    reread: boolean,
    key: string,
    compute: () => T | Promise<T>,
    spec: ComputeSpec,
    ticket: Ticket,
    span: TracedSpan,
  ): Promise<T> {
    const { readThrough, tiers } = this.#ctx;
    let announced = false;
    try {
      const stored = reread ? await readThrough?.reread(key, spec.graceMs) : undefined;
      if (stored !== undefined) {
        announced = true;
        span.set({ 'cache.hit': true, 'cache.tier': 'l2', 'cache.result': 'hit' });
        return stored.value as T;
      }
      const result = await this.#computeAndStore(key, compute, spec, ticket, span, attempt);
      announced = result.stored;
      return result.value;
    } finally {
      // The release holds no caller up (one round trip less per miss; stop() still waits for it),
      // and costs none when the store released the lock with the shared write. A shared value
      // already woke the waiters; without one (compute failed, or a write here
      // superseded it), the release is announced: whoever waits tries again now, not when the
      // lease lapses.
      attempt.releaseInBackground(announced ? undefined : async () => tiers?.announceUnlock(key));
    }
  }

  /**
   * Computes, and stores unless the key was removed meanwhile; says whether it stored (and so
   * announced). `lock`: held on `key`, released with the write where the store can.
   */
  async #computeAndStore<T>(
    key: string,
    compute: () => T | Promise<T>,
    spec: ComputeSpec,
    ticket: Ticket,
    span: TracedSpan,
    lock?: HeldLock,
  ): Promise<{ value: T; stored: boolean }> {
    span.set({ 'cache.tier': 'compute', 'cache.result': 'miss' });
    let value: T;
    try {
      value = await compute();
    } catch (error) {
      const stale = this.#ctx.l1.stale(key, spec.graceMs);
      if (stale === undefined) throw error;
      span.set({ 'cache.result': 'stale', 'cache.tier': 'l1' });
      this.#ctx.log.warn({ key, err: error }, 'compute failed; serving the stale value (grace)');
      return { value: stale.value as T, stored: false };
    }
    let write: PreparedWrite;
    try {
      const tags = typeof spec.tags === 'function' ? normalizeTags(spec.tags(value)) : spec.tags;
      write = this.#ctx.prepare(key, value, { ttlMs: spec.ttlMs, graceMs: spec.graceMs, tags });
    } catch (error) {
      if (!(error instanceof CacheEntryTooLargeError)) throw error;
      // Computed and valid, only too big to keep: every waiter gets it; nobody computes it again now.
      this.#ctx.stats.count('uncacheable');
      this.#ctx.log.warn(
        { key, sizeBytes: error.sizeBytes, maxBytes: error.maxBytes },
        'a computed value is larger than the whole cache budget; returned, not cached',
      );
      return { value, stored: false };
    }
    if (ticket.stale) return { value, stored: false };
    await this.#ctx.store(write, lock);
    return { value, stored: true };
  }
}
