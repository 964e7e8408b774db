import { randomBytes } from 'node:crypto';
import type { Logger } from '@pm/service-manager/contract';
import type { ResolvedCacheOptions } from '../config.js';
import type { CacheStats } from '../stats/counters.js';
import type { InvalidationBus, InvalidationMessage } from '../bus/invalidation-bus.js';
import type { CacheStore, StoredEntry } from '../stores/cache-store.js';
import { BusTier, type BusMetrics } from './bus-tier.js';
import { LockLeases, type HeldLock, type LockAttempt } from './lock-leases.js';
import { LockWaits, type KeyWatch, type LockWaitMetrics } from './lock-waits.js';
import { ReplayQueue, type Removal } from './replay-queue.js';
import { StoreTier, type TierMetrics, type TierResult } from './store-tier.js';

export interface SharedTiersOptions {
  readonly l2: CacheStore | undefined;
  readonly bus: InvalidationBus | undefined;
  /** Bound on one L2 or bus operation. */
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Removals kept for replay during an outage before the queue collapses into one `clear`. @default 1000 */
  readonly replayLimit?: number;
  /** Receives the duration of every L2 get and set. */
  readonly observe?: (operation: 'get' | 'set', seconds: number) => void;
}

/** What the cache does with what it hears from other processes. */
export interface RemoteListener {
  onMessage(message: InvalidationMessage): void;
  /** The bus was down: messages may have been missed. */
  onResync(): void;
}

/** A write to share: the entry as L2 stores it (its `version` set). */
export interface SharedWrite {
  readonly key: string;
  readonly entry: StoredEntry;
}

/** The replay figures of `getMetrics().l2.replay`. */
export type { LockAttempt, LockWaitMetrics };

export interface ReplayMetrics {
  /** Removals waiting for L2 or the bus to come back. */
  pending: number;
  queued: number;
  replayed: number;
  /** Removals dropped: collapsed into a `clear` when the queue overflowed, or refused for good. */
  dropped: number;
}

/** What became of shared writes: stored in L2 (and announced), or not. */
export interface WriteOutcome {
  /** Keys L2 now holds. */
  stored: number;
  /** Keys L2 did not take (their old record removed, or its removal queued). */
  failed: number;
  /** A removal or announcement was queued for replay. */
  queued: boolean;
}

/** What became of a removal: done (with what L2 removed), or queued for replay. */
export interface RemovalOutcome {
  removed: number;
  queued: boolean;
}

const REPLAY_RETRY_MS = 1000;
/** Replays of one removal refused while the tier answers, before it is dropped (loudly). */
const MAX_REPLAY_ATTEMPTS = 5;

/**
 * The shared tiers below L1: an L2 store and the invalidation bus, with the rules that keep
 * processes coherent through faults.
 *
 * - A write is announced (`set`) only once L2 holds it. If L2 refuses it, the old L2 record is
 *   removed and that is announced (`delete`: others miss rather than read the replaced value);
 *   if L2 does not answer at all, nothing is announced (others keep their copy) and the removal
 *   is queued.
 * - Deletes, invalidations, tag invalidations and clears that L2 or the bus could not take are
 *   queued and replayed in order when they answer again (on recovery, on reconnection, and every
 *   second while any wait), so an invalidation made during a partition is never undone.
 * - Every call is bounded in time and never throws.
 */
export class SharedTiers {
  readonly l2: StoreTier | undefined;
  readonly bus: BusTier | undefined;
  readonly #log: Logger;
  readonly #queue: ReplayQueue;
  readonly #versionPrefix = randomBytes(4).toString('hex');
  #versionCounter = 0;
  #listener: RemoteListener | undefined;
  #draining: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #lockWaits = new LockWaits();
  readonly #leases: LockLeases | undefined;

  /** The tiers of a cache with these options (none without an L2 or a bus), listened to by `listener`. */
  static forCache(options: ResolvedCacheOptions, stats: CacheStats, listener: RemoteListener): SharedTiers | undefined {
    const { l2, bus, tierTimeoutMs, logger } = options;
    if (l2 === undefined && bus === undefined) return undefined;
    const tiers = new SharedTiers({ l2, bus, timeoutMs: tierTimeoutMs, log: logger, observe: stats.observer('l2') });
    tiers.listen(listener);
    return tiers;
  }

  constructor(options: SharedTiersOptions) {
    this.#log = options.log;
    this.#queue = new ReplayQueue(options.replayLimit ?? 1000);
    this.l2 =
      options.l2 === undefined
        ? undefined
        : new StoreTier(
            options.l2,
            options.timeoutMs,
            options.log,
            () => {
              this.#replay();
            },
            options.observe,
          );
    this.bus = options.bus === undefined ? undefined : new BusTier(options.bus, options.timeoutMs, options.log);
    this.#leases = this.l2 === undefined ? undefined : new LockLeases(this.l2, options.log);
    options.bus?.subscribe({
      onMessage: (message) => {
        this.bus?.received(message);
        this.#lockWaits.wake(message);
        this.#listener?.onMessage(message);
      },
      onReconnect: () => {
        if (this.bus !== undefined) this.bus.resyncs++;
        this.#listener?.onResync();
        this.#replay();
      },
    });
  }

  /** Where remote messages go (the cache's own L1). */
  listen(listener: RemoteListener): void {
    this.#listener = listener;
  }

  /** A new version id: unique per process and write, without a random draw per write. */
  version(): string {
    return `${this.#versionPrefix}.${(this.#versionCounter++).toString(36)}`;
  }

  async connect(): Promise<void> {
    await Promise.all([this.l2?.connect(), this.bus?.connect()]);
    this.#replay();
  }

  async close(): Promise<void> {
    clearInterval(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#leases?.settled();
    await Promise.all([this.l2?.close(), this.bus?.close()]);
  }

  /**
   * The L2 entry for `key` (a miss while a removal covering it still waits to be replayed),
   * handed to `then` in the step that reads it (see `StoreTier.get`).
   */
  read<R>(key: string, then: (entry: StoredEntry | undefined) => R): Promise<R> {
    if (this.l2 === undefined) return Promise.resolve(then(undefined));
    return this.l2.get(key, (entry) => then(this.#unlessRemoved(key, entry)));
  }

  async readMany(keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    if (this.l2 === undefined) return keys.map(() => undefined);
    const entries = await this.l2.mget(keys);
    return entries.map((entry, i) => this.#unlessRemoved(keys[i] ?? '', entry));
  }

  /** An invalidation made during an outage must not come back to life when L2 answers again. */
  #unlessRemoved(key: string, entry: StoredEntry | undefined): StoredEntry | undefined {
    return entry !== undefined && this.#queue.length > 0 && this.#queue.covers(key, entry.tags) ? undefined : entry;
  }

  /** Whether L2 holds a live entry (undefined when it cannot tell). */
  async has(key: string): Promise<boolean> {
    const result = await this.l2?.run('has', (store) => store.get(key));
    return result?.ok === true && this.#unlessRemoved(key, result.value) !== undefined;
  }

  /**
   * Shares writes already committed to L1: into L2, then announced (see the class notes). With
   * `lock` (held on the one key written), the store may release it in the same step.
   */
  async write(writes: readonly SharedWrite[], lock?: HeldLock): Promise<WriteOutcome> {
    if (writes.length === 0) return { stored: 0, failed: 0, queued: false };
    const l2 = this.l2;
    if (l2 === undefined) {
      const announced = await this.#announce({
        type: 'set',
        keys: writes.map((w) => w.key),
        versions: writes.map((w) => w.entry.version ?? ''),
      });
      return { stored: 0, failed: 0, queued: !announced };
    }
    const [only] = writes;
    const fused =
      writes.length === 1 && only !== undefined && this.#queue.length === 0 ? await this.#writeAndAnnounce(l2, only, lock) : undefined;
    const results =
      fused === undefined ? await Promise.all(writes.map((w) => l2.run('set', (store) => store.set(w.key, w.entry)))) : [fused];
    const stored = writes.filter((_, i) => results[i]?.ok === true);
    const refused = writes.filter((_, i) => results[i]?.ok !== true).map((w) => w.key);
    let announced = true;
    if (stored.length > 0 && fused === undefined)
      announced = await this.#announce({ type: 'set', keys: stored.map((w) => w.key), versions: stored.map((w) => w.entry.version ?? '') });
    if (refused.length > 0) {
      // The old value must not be read back by the others: remove it, or queue its removal.
      const removal: Removal = { type: 'delete', keys: refused };
      const removed = await this.#removeInL2(removal);
      if (removed.ok) announced = (await this.#announce(removal)) && announced;
      else {
        this.#enqueue(removal, true);
        announced = false;
      }
    }
    if (stored.length > 0 && this.#queue.length > 0) this.#replay();
    return { stored: stored.length, failed: refused.length, queued: !announced };
  }

  /**
   * Carries out a removal in L2 and announces it; queued for replay when either cannot be
   * reached. Resolves what L2 removed (0 when it could not tell).
   */
  async remove(removal: Removal): Promise<RemovalOutcome> {
    if (this.#queue.length > 0) {
      // Behind removals still waiting: replaying out of order could undo one of them.
      this.#enqueue(removal, this.l2 !== undefined);
      this.#replay();
      return { removed: 0, queued: true };
    }
    let removed = 0;
    if (this.l2 !== undefined) {
      const result = await this.#removeInL2(removal);
      if (!result.ok) {
        this.#enqueue(removal, true);
        return { removed: 0, queued: true };
      }
      removed = result.value;
    }
    return { removed, queued: !(await this.#announce(removal)) };
  }

  /** Takes the distributed lock on `key` as a lease of `leaseMs` (see {@link LockLeases.take}). */
  async lock(key: string, leaseMs: number): Promise<LockAttempt> {
    return (await this.#leases?.take(key, leaseMs)) ?? { held: false, reason: 'unavailable' };
  }

  /**
   * A getOrCompute miss in one L2 round trip where the store can do it: the entry, or the lock
   * (taken for the caller, or held elsewhere), or `unusable` (a record that cannot be served: the
   * caller locks, then re-reads). Undefined where the store cannot, or did not answer.
   */
  async readOrLock(key: string, leaseMs: number): Promise<{ entry: StoredEntry } | { attempt: LockAttempt } | 'unusable' | undefined> {
    const found = await this.l2?.readOrLock(key, leaseMs);
    if (found === undefined || this.#leases === undefined) return undefined;
    if (found.found === 'unusable') return 'unusable';
    if (found.found === 'entry') {
      const entry = this.#unlessRemoved(key, found.entry);
      return entry === undefined ? 'unusable' : { entry };
    }
    return { attempt: found.lease === undefined ? { held: false, reason: 'taken' } : this.#leases.hold(key, leaseMs, found.lease) };
  }

  /** Tells processes waiting on `key`'s lock that it was released without a value. */
  async announceUnlock(key: string): Promise<void> {
    await this.bus?.publish({ type: 'unlock', keys: [key] });
  }

  /** Hears the messages about `key` (a value, a removal, an unlock) from now on: watch before asking for the lock. */
  watchChanges(key: string): KeyWatch {
    return this.#lockWaits.watch(key);
  }

  /** Health of each configured tier, with the reason when it is not healthy. */
  async health(): Promise<{ l2?: { ok: boolean; problem?: string }; bus?: { ok: boolean; problem?: string } }> {
    const out: { l2?: { ok: boolean; problem?: string }; bus?: { ok: boolean; problem?: string } } = {};
    if (this.l2 !== undefined) {
      const health = await this.l2.health();
      const name = this.l2.store.name;
      if (!health.ok) out.l2 = { ok: false, problem: `L2 (${name}) ${health.error ?? 'unreachable'}` };
      else if (!this.l2.available) out.l2 = { ok: false, problem: `L2 (${name}) is recovering (circuit open)` };
      else if (this.l2.writeRefusal !== undefined) out.l2 = { ok: false, problem: `L2 (${name}) refuses writes: ${this.l2.writeRefusal}` };
      else out.l2 = { ok: true };
    }
    if (this.bus !== undefined) {
      const connected = this.bus.bus.connected;
      out.bus = connected
        ? { ok: true }
        : { ok: false, problem: `invalidation bus disconnected${this.bus.bus.problem === undefined ? '' : ` (${this.bus.bus.problem})`}` };
    }
    return out;
  }

  l2Metrics(): (TierMetrics & { replay: ReplayMetrics; locks: LockWaitMetrics }) | undefined {
    return this.l2 === undefined ? undefined : { ...this.l2.metrics(), replay: this.replayMetrics(), locks: this.#lockWaits.metrics() };
  }

  busMetrics(): BusMetrics | undefined {
    return this.bus?.metrics();
  }

  replayMetrics(): ReplayMetrics {
    return { pending: this.#queue.length, queued: this.#queue.queued, replayed: this.#queue.replayed, dropped: this.#queue.dropped };
  }

  /**
   * One write and its announcement in one round trip, when the store can publish the bus's
   * message for it (a RedisStore on the bus's server); undefined when they cannot go together.
   */
  async #writeAndAnnounce(l2: StoreTier, write: SharedWrite, lock: HeldLock | undefined): Promise<TierResult<boolean> | undefined> {
    const { bus } = this;
    const { store } = l2;
    if (bus === undefined || store.setAndPublish === undefined) return undefined;
    const message: InvalidationMessage = { type: 'set', keys: [write.key], versions: [write.entry.version ?? ''] };
    const announcement = bus.bus.announcement?.(message, store);
    if (announcement === undefined) return undefined;
    const setAndPublish = store.setAndPublish.bind(store);
    const result = await l2.run('set', () => setAndPublish(write.key, write.entry, announcement, lock?.lease));
    if (!result.ok) return result;
    bus.publishedByType.set++;
    if (result.value) lock?.releasedWithWrite();
    return result;
  }

  /** Publishes; when the bus cannot take it, queues it (a write's announcement as a removal) and resolves false. */
  async #announce(message: InvalidationMessage): Promise<boolean> {
    if (this.bus === undefined || (await this.bus.publish(message))) return true;
    const removal: Removal = message.type === 'set' || message.type === 'unlock' ? { type: 'delete', keys: message.keys } : message;
    this.#enqueue(removal, false);
    return false;
  }

  async #removeInL2(removal: Removal): Promise<TierResult<number>> {
    const l2 = this.l2;
    if (l2 === undefined) return { ok: true, value: 0 };
    switch (removal.type) {
      case 'delete':
        return l2.run('delete', async (store) => (await Promise.all(removal.keys.map((key) => store.delete(key)))).filter(Boolean).length);
      case 'invalidate':
        return l2.run('invalidate', (store) => store.invalidate(removal.pattern));
      case 'tags':
        return l2.run('invalidateTags', (store) => store.invalidateTags(removal.tags));
      case 'clear':
        return l2.run('clear', async (store) => {
          await store.clear();
          return 0;
        });
    }
  }

  #enqueue(removal: Removal, inL2: boolean): void {
    this.#queue.push(removal, inL2);
    this.#log.warn(
      { removal: removal.type, pending: this.#queue.length },
      'a removal could not reach the shared tiers; it will be replayed when they answer',
    );
    this.#retryTimer ??= setInterval(() => {
      this.#replay();
    }, REPLAY_RETRY_MS);
    this.#retryTimer.unref();
  }

  /** Replays queued removals, in order, one drain at a time. */
  #replay(): void {
    if (this.#queue.length === 0 || this.#draining !== undefined) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  async #drain(): Promise<void> {
    for (let head = this.#queue.head(); head !== undefined; head = this.#queue.head()) {
      if (head.inL2) {
        const result = await this.#removeInL2(head.removal);
        if (!result.ok) {
          if (this.l2?.available === true && ++head.attempts >= MAX_REPLAY_ATTEMPTS) {
            this.#log.error({ removal: head.removal, err: result.error }, 'L2 keeps refusing a queued removal; dropping it');
            this.#queue.drop();
            continue;
          }
          return;
        }
        head.inL2 = false;
      }
      if (this.bus !== undefined && !(await this.bus.publish(head.removal))) return;
      this.#queue.done();
      this.#log.info({ removal: head.removal.type, pending: this.#queue.length }, 'replayed a removal queued during an outage');
    }
    clearInterval(this.#retryTimer);
    this.#retryTimer = undefined;
  }
}
