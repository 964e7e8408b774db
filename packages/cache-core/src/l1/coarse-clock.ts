/**
 * `Date.now()` costs about as much as a whole `lru-cache` get (~45 ns), so the read path uses a
 * clock that reads the time at most once per millisecond of event-loop time, as lru-cache's own
 * TTL check does. Reads can therefore see an entry expire up to 1 ms late (or later, inside one
 * long synchronous task); writes use the precise clock.
 */
export class CoarseClock {
  #cached = 0;
  readonly #forget = (): void => {
    this.#cached = 0;
  };

  /**
   * The time read this millisecond, or 0 when it must be read again (the first call of each
   * millisecond): the read path times that call, so sampling latency costs no counter.
   */
  get cached(): number {
    return this.#cached;
  }

  now(): number {
    if (this.#cached !== 0) return this.#cached;
    const now = Date.now();
    this.#cached = now;
    setTimeout(this.#forget, 1).unref();
    return now;
  }
}
