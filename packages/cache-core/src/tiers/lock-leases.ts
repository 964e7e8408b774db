import type { Logger } from '@pm/service-manager/contract';
import type { StoreLease } from '../stores/cache-store.js';
import type { StoreTier } from './store-tier.js';

/** What a distributed lock attempt gives. */
export type LockAttempt = HeldLock | { held: false; reason: 'taken' | 'unavailable' };

/** A lock this process holds, as a lease renewed until released. */
export interface HeldLock {
  held: true;
  /** The store's lease: a write that shares the value may release it in the same step (`SharedTiers.write`). */
  lease: StoreLease;
  /** The store released the lock along with the write that shared the value: stop renewing it. */
  releasedWithWrite: () => void;
  /** Releases (once; later calls do nothing). */
  release: () => Promise<void>;
  /**
   * Releases, then runs `after` (an announcement, say), without making the caller wait for
   * either round trip; `settled()` waits for them.
   */
  releaseInBackground: (after?: () => Promise<void>) => void;
}

/** Distributed locks on the L2 store, held as leases renewed while the work runs. */
export class LockLeases {
  readonly #l2: StoreTier;
  readonly #log: Logger;
  /** Releases still on their way to the store. */
  readonly #releasing = new Set<Promise<void>>();

  constructor(l2: StoreTier, log: Logger) {
    this.#l2 = l2;
    this.#log = log;
  }

  /**
   * Takes the lock on `key` as a lease of `leaseMs`, renewed every third of it until released,
   * so work longer than the lease is still done once; a holder that dies stops blocking the
   * others when its lease lapses. 'unavailable' when the store has no locks or does not answer.
   */
  async take(key: string, leaseMs: number): Promise<LockAttempt> {
    if (this.#l2.store.lock === undefined) return { held: false, reason: 'unavailable' };
    const result = await this.#l2.run('lock', async (store) => store.lock?.(key, leaseMs));
    if (!result.ok) return { held: false, reason: 'unavailable' };
    const lease: StoreLease | undefined = result.value;
    return lease === undefined ? { held: false, reason: 'taken' } : this.hold(key, leaseMs, lease);
  }

  /** A lease taken on `key` (by `take`, or with a read): renewed every third of `leaseMs` until released. */
  hold(key: string, leaseMs: number, lease: StoreLease): LockAttempt {
    const l2 = this.#l2;
    const renewal = setInterval(
      () => {
        void l2
          .run('renew', () => lease.renew(leaseMs))
          .then((renewed) => {
            if (renewed.ok && !renewed.value) this.#log.warn({ key }, 'a distributed lock lease was lost before the work finished');
          });
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    renewal.unref();
    let released = false;
    const stopRenewing = () => {
      released = true;
      clearInterval(renewal);
    };
    const release = async () => {
      if (released) return;
      stopRenewing();
      await l2.run('unlock', () => lease.release());
    };
    return {
      held: true,
      lease,
      releasedWithWrite: stopRenewing,
      release,
      releaseInBackground: (after) => {
        // Released with the write that shared the value: nothing left to send or to wait for.
        if (released && after === undefined) return;
        const releasing = release()
          .then(after)
          .catch((error: unknown) => {
            this.#log.warn({ key, err: error }, 'announcing a released lock failed');
          })
          .finally(() => this.#releasing.delete(releasing));
        this.#releasing.add(releasing);
      },
    };
  }

  /** Resolves once every background release has reached the store (or failed). */
  async settled(): Promise<void> {
    await Promise.all(this.#releasing);
  }
}
