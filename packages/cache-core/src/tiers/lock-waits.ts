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
 *
 * A caller watches its key before it asks for the lock. The holder's message can reach this
 * process before the reply that says the lock is taken; heard by a watch, it is kept for the
 * next wait instead of being lost, which left the waiter asleep for a whole lease.
 */
export class LockWaits {
  readonly #watches = new Map<string, Set<KeyWatch>>();
  #waits = 0;
  #waitMs = 0;

  /** Hears every message about `key` from now until the watch is closed. */
  watch(key: string): KeyWatch {
    let watches = this.#watches.get(key);
    if (watches === undefined) this.#watches.set(key, (watches = new Set()));
    const forget = (): void => {
      watches.delete(watch);
      if (watches.size === 0 && this.#watches.get(key) === watches) this.#watches.delete(key);
    };
    const waited = (ms: number): void => {
      this.#waits++;
      this.#waitMs += ms;
    };
    const watch = new KeyWatch(forget, waited);
    watches.add(watch);
    return watch;
  }

  /** Tells the watches of every key the message is about. */
  wake(message: InvalidationMessage): void {
    if (this.#watches.size === 0) return;
    let keys: string[];
    if (message.type === 'set' || message.type === 'delete' || message.type === 'unlock') keys = message.keys;
    else if (message.type === 'invalidate') keys = [...this.#watches.keys()].filter((key) => compilePattern(message.pattern).matches(key));
    else keys = [...this.#watches.keys()];
    for (const key of keys) for (const watch of this.#watches.get(key) ?? []) watch.heard();
  }

  metrics(): LockWaitMetrics {
    return { waits: this.#waits, waitMs: this.#waitMs };
  }
}

/** One caller's watch on a key (see {@link LockWaits}). */
export class KeyWatch {
  readonly #forget: () => void;
  readonly #waited: (ms: number) => void;
  /** A message came that no `next` has taken yet. */
  #unheard = false;
  #wake: (() => void) | undefined;

  constructor(forget: () => void, waited: (ms: number) => void) {
    this.#forget = forget;
    this.#waited = waited;
  }

  /**
   * Resolves at once if a message about the key came since the watch began or since the last
   * `next`; else on the next message, or after `timeoutMs` (a lost message costs one lease). The
   * timer never keeps the process alive.
   */
  next(timeoutMs: number): Promise<void> {
    if (this.#unheard) {
      this.#unheard = false;
      this.#waited(0);
      return Promise.resolve();
    }
    const start = performance.now();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#waited(performance.now() - start);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs).unref();
      this.#wake = done;
    });
  }

  heard(): void {
    if (this.#wake === undefined) this.#unheard = true;
    else this.#wake();
  }

  /** Stops hearing; a wait under way ends now. */
  close(): void {
    this.#forget();
    this.#wake?.();
  }
}
