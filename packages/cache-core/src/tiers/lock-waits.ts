import type { InvalidationMessage } from '../bus/invalidation-bus.js';
import { compilePattern } from '../invalidation/pattern.js';

/** Waits of getOrCompute on another process's distributed lock. */
export interface LockWaitMetrics {
  waits: number;
  /** Total time spent waiting, in milliseconds. */
  waitMs: number;
}

/**
 * Processes waiting on another's lock, woken by the bus message about their key (its value, its
 * removal, or the lock released without a value), never by polling; counted for the metrics.
 */
export class LockWaits {
  readonly #waiters = new Map<string, Set<() => void>>();
  #waits = 0;
  #waitMs = 0;

  /** Resolves when `wake` hears of `key`, or after `timeoutMs`. */
  wait(key: string, timeoutMs: number): Promise<void> {
    const start = performance.now();
    this.#waits++;
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(key);
      if (waiters === undefined) this.#waiters.set(key, (waiters = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key);
        this.#waitMs += performance.now() - start;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      waiters.add(done);
    });
  }

  /** Wakes whoever waits on a key the message is about. */
  wake(message: InvalidationMessage): void {
    if (this.#waiters.size === 0) return;
    let keys: string[];
    if (message.type === 'set' || message.type === 'delete' || message.type === 'unlock') keys = message.keys;
    else if (message.type === 'invalidate') keys = [...this.#waiters.keys()].filter((key) => compilePattern(message.pattern).matches(key));
    else keys = [...this.#waiters.keys()];
    for (const key of keys) for (const wake of [...(this.#waiters.get(key) ?? [])]) wake();
  }

  metrics(): LockWaitMetrics {
    return { waits: this.#waits, waitMs: this.#waitMs };
  }
}
