import { TimeLimit, withTimeout, type Logger } from '@pm/service-manager/contract';
import { CacheStoreError } from '../errors.js';
import type { CacheStore, ReadOrLock, StoredEntry } from '../stores/cache-store.js';
import { traceStoreCall, type TracedSpan } from '../stats/tracing.js';
import { CircuitBreaker } from './circuit-breaker.js';

/** The L2 figures of `getMetrics().l2`. */
export interface TierMetrics {
  name: string;
  hits: number;
  misses: number;
  /** Operations that failed or timed out. */
  errors: number;
  /** Operations not attempted because the circuit was open. */
  skipped: number;
  /** Records that did not decode (read as misses). */
  corruptions: number;
  available: boolean;
  /** Times the circuit opened. */
  circuitTrips: number;
}

export type TierResult<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * An L2 store behind a circuit breaker. Every operation is bounded in time and never throws:
 * a failure is a `{ ok: false }` result and is counted; a store that does not answer opens the
 * circuit (a store that answers with a refusal, such as out-of-memory, does not: it still
 * serves reads). It remembers the last refused write and the last reason it was unreachable,
 * for health.
 */
export class StoreTier {
  readonly store: CacheStore;
  readonly breaker: CircuitBreaker;
  readonly #timeoutMs: number;
  /** Bounds every operation, with one timer for all of them. */
  readonly #limit: TimeLimit;
  readonly #log: Logger;
  hits = 0;
  misses = 0;
  errors = 0;
  skipped = 0;
  /** Why the last write was refused, until a write succeeds again. */
  writeRefusal: string | undefined;

  readonly #observe: ((operation: 'get' | 'set', seconds: number) => void) | undefined;

  constructor(
    store: CacheStore,
    timeoutMs: number,
    log: Logger,
    onRecovered: () => void,
    observe?: (operation: 'get' | 'set', seconds: number) => void,
  ) {
    this.store = store;
    this.#observe = observe;
    this.#timeoutMs = timeoutMs;
    this.#limit = new TimeLimit(timeoutMs);
    this.#log = log;
    this.breaker = new CircuitBreaker({
      probe: async () => (await this.health()).ok,
      onOpen: () => {
        this.#log.error({ tier: store.name }, 'L2 taken out after repeated failures; probing it every second');
      },
      onClose: () => {
        this.#log.info({ tier: store.name }, 'L2 is back');
        onRecovered();
      },
    });
  }

  get available(): boolean {
    return !this.breaker.open;
  }

  metrics(): TierMetrics {
    return {
      name: this.store.name,
      hits: this.hits,
      misses: this.misses,
      errors: this.errors,
      skipped: this.skipped,
      corruptions: this.store.corruptions ?? 0,
      available: this.available,
      circuitTrips: this.breaker.trips,
    };
  }

  async connect(): Promise<void> {
    const result = await this.run('connect', async (store) => store.connect?.());
    if (!result.ok)
      this.#log.warn({ tier: this.store.name, err: result.error }, 'L2 is not reachable yet; serving from L1 until it answers');
  }

  async close(): Promise<void> {
    this.breaker.stop();
    await withTimeout(async () => this.store.close?.(), this.#timeoutMs, `closing ${this.store.name}`).catch(() => undefined);
  }

  /**
   * The entry under `key` (undefined on a miss or a failure), counted, and handed to `then` in
   * the same step as the store's answer: an L1 miss costs a round trip plus what it costs here,
   * and every `.then` of a chain is one more turn of the microtask queue.
   */
  get<R>(key: string, then: (entry: StoredEntry | undefined) => R): Promise<R> {
    return this.#bounded(
      'get',
      (store) => store.get(key),
      (entry) => {
        if (entry === undefined) this.misses++;
        else this.hits++;
        return then(entry);
      },
      () => {
        this.misses++;
        return then(undefined);
      },
    );
  }

  /** `store.readOrLock`, counted as a get: undefined when the store cannot, or did not answer. */
  async readOrLock(key: string, ttlMs: number): Promise<ReadOrLock | undefined> {
    if (this.store.readOrLock === undefined) return undefined;
    const result = await this.run('get', async (store) => store.readOrLock?.(key, ttlMs));
    if (!result.ok || result.value === undefined) return undefined;
    if (result.value.found === 'entry') this.hits++;
    else this.misses++;
    return result.value;
  }

  async mget(keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    const result = await this.run('mget', (store) => (store.mget ? store.mget(keys) : Promise.all(keys.map((k) => store.get(k)))));
    const entries = result.ok ? result.value : keys.map(() => undefined);
    for (const entry of entries) {
      if (entry === undefined) this.misses++;
      else this.hits++;
    }
    return entries;
  }

  /** Bounded, never throws; timed (gets and sets) and traced. */
  run<T>(operation: string, call: (store: CacheStore) => Promise<T>): Promise<TierResult<T>> {
    return this.#bounded(
      operation,
      call,
      (value): TierResult<T> => ({ ok: true, value }),
      (error): TierResult<T> => ({ ok: false, error }),
    );
  }

  /** `run`, its outcome mapped by `onValue` or `onError` in the step that settles it. */
  #bounded<T, R>(
    operation: string,
    call: (store: CacheStore) => Promise<T>,
    onValue: (value: T) => R,
    onError: (error: unknown) => R,
  ): Promise<R> {
    if (this.breaker.open) {
      this.skipped++;
      const skipped = new CacheStoreError(`${this.store.name} is unavailable (circuit open)`, { reason: 'unreachable' });
      // In an executor, so that a mapper that throws rejects, as it does when the store answers.
      return new Promise<R>((resolve) => {
        resolve(onError(skipped));
      });
    }
    const start = performance.now();
    return traceStoreCall(this.store.name, operation, (span) =>
      this.#limit.settle(
        () => call(this.store),
        `${this.store.name} ${operation}`,
        (value) => {
          this.breaker.succeeded();
          if (operation === 'set') this.writeRefusal = undefined;
          this.#timed(operation, start);
          return onValue(value);
        },
        (error: unknown) => {
          this.#failed(operation, error, span);
          this.#timed(operation, start);
          return onError(error);
        },
      ),
    );
  }

  /** Counts and logs a failed call; only silence and errors trip the circuit, not a refusal. */
  #failed(operation: string, error: unknown, span: TracedSpan): void {
    this.errors++;
    span.failed(error);
    const refused = error instanceof CacheStoreError && error.reason === 'refused';
    if (refused && operation === 'set') this.writeRefusal = error.message.replace(/^\[cache-core\] /, '');
    this.#log.warn(
      { tier: this.store.name, operation, err: error },
      refused ? 'L2 refused an operation' : 'L2 operation failed; serving from L1',
    );
    // A refusal is an answer: the store is up.
    if (!refused) this.breaker.failed();
  }

  /** Gets and sets go into the L2 latency histograms. */
  #timed(operation: string, start: number): void {
    const timed = operation === 'get' || operation === 'mget' ? 'get' : operation === 'set' ? 'set' : undefined;
    if (timed !== undefined) this.#observe?.(timed, (performance.now() - start) / 1000);
  }

  /** The store's own health, bounded; never throws. */
  async health(): Promise<{ ok: boolean; error?: string }> {
    try {
      const health = await withTimeout(() => this.store.health(), this.#timeoutMs, `${this.store.name} health`);
      return health.ok ? { ok: true } : { ok: false, error: health.error ?? 'unhealthy' };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }
}
