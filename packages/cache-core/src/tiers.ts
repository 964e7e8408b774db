import { withTimeout, type Logger } from '@pm/service-manager/contract';
import type { CacheStore, InvalidationBus, InvalidationMessage, StoredEntry } from './stores/cache-store.js';

/** After this many consecutive failures a tier is taken out and probed until it answers again. */
const FAILURE_THRESHOLD = 3;
const PROBE_INTERVAL_MS = 1000;

export interface TierMetrics {
  name: string;
  hits: number;
  misses: number;
  /** Operations that failed or timed out. */
  errors: number;
  /** Operations not attempted because the circuit was open. */
  skipped: number;
  available: boolean;
}

/**
 * An L2 store behind a circuit breaker. Every operation is bounded in time and never throws:
 * a failure returns the fallback and counts; after {@link FAILURE_THRESHOLD} failures in a row
 * the tier is skipped outright and probed every second until its health check passes.
 */
export class StoreTier {
  readonly store: CacheStore;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  #failures = 0;
  #open = false;
  #probe: NodeJS.Timeout | undefined;
  hits = 0;
  misses = 0;
  errors = 0;
  skipped = 0;

  constructor(store: CacheStore, timeoutMs: number, log: Logger) {
    this.store = store;
    this.#timeoutMs = timeoutMs;
    this.#log = log;
  }

  get available(): boolean {
    return !this.#open;
  }

  metrics(): TierMetrics {
    return { name: this.store.name, hits: this.hits, misses: this.misses, errors: this.errors, skipped: this.skipped, available: this.available };
  }

  async connect(): Promise<void> {
    await this.run('connect', async (store) => store.connect?.(), undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.#probe);
    this.#probe = undefined;
    await withTimeout(async () => this.store.close?.(), this.#timeoutMs, `closing ${this.store.name}`).catch(() => undefined);
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    const entry = await this.run('get', (store) => store.get(key), undefined);
    if (entry === undefined) this.misses++;
    else this.hits++;
    return entry;
  }

  async mget(keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    const none = keys.map(() => undefined);
    const entries = await this.run('mget', (store) => (store.mget ? store.mget(keys) : Promise.all(keys.map((k) => store.get(k)))), none);
    for (const entry of entries) {
      if (entry === undefined) this.misses++;
      else this.hits++;
    }
    return entries;
  }

  /** Bounded, never throws; resolves the store's answer or `fallback`. */
  async run<T>(operation: string, call: (store: CacheStore) => Promise<T>, fallback: T): Promise<T> {
    if (this.#open) {
      this.skipped++;
      return fallback;
    }
    try {
      const result = await withTimeout(() => call(this.store), this.#timeoutMs, `${this.store.name} ${operation}`);
      this.#failures = 0;
      return result;
    } catch (error) {
      this.errors++;
      this.#failures++;
      this.#log.warn({ tier: this.store.name, operation, err: error }, 'L2 operation failed; serving from L1');
      if (this.#failures >= FAILURE_THRESHOLD) this.#trip();
      return fallback;
    }
  }

  /** The store's own health, bounded; never throws. */
  async health(): Promise<boolean> {
    try {
      return (await withTimeout(() => this.store.health(), this.#timeoutMs, `${this.store.name} health`)).ok;
    } catch {
      return false;
    }
  }

  #trip(): void {
    if (this.#open) return;
    this.#open = true;
    this.#log.error({ tier: this.store.name }, 'L2 taken out after repeated failures; probing it every second');
    this.#probe = setInterval(() => {
      void this.health().then((ok) => {
        if (!ok || !this.#open) return;
        this.#open = false;
        this.#failures = 0;
        clearInterval(this.#probe);
        this.#probe = undefined;
        this.#log.info({ tier: this.store.name }, 'L2 is back');
      });
    }, PROBE_INTERVAL_MS);
    this.#probe.unref();
  }
}

export interface BusMetrics {
  name: string;
  connected: boolean;
  published: number;
  received: number;
  errors: number;
  /** Times L1 was cleared because the bus had been down and messages may have been missed. */
  resyncs: number;
}

/** The invalidation bus, bounded and never throwing, with counters. */
export class BusTier {
  readonly bus: InvalidationBus;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  published = 0;
  received = 0;
  errors = 0;
  resyncs = 0;

  constructor(bus: InvalidationBus, timeoutMs: number, log: Logger) {
    this.bus = bus;
    this.#timeoutMs = timeoutMs;
    this.#log = log;
  }

  metrics(): BusMetrics {
    return { name: this.bus.name, connected: this.bus.connected, published: this.published, received: this.received, errors: this.errors, resyncs: this.resyncs };
  }

  async connect(): Promise<void> {
    try {
      await withTimeout(() => this.bus.connect(), this.#timeoutMs * 4, `${this.bus.name} connect`);
    } catch (error) {
      this.errors++;
      this.#log.warn({ bus: this.bus.name, err: error }, 'the invalidation bus is not reachable yet; it will keep trying');
    }
  }

  async close(): Promise<void> {
    await withTimeout(() => this.bus.close(), this.#timeoutMs, `${this.bus.name} close`).catch(() => undefined);
  }

  async publish(message: InvalidationMessage): Promise<void> {
    try {
      await withTimeout(() => this.bus.publish(message), this.#timeoutMs, `${this.bus.name} publish`);
      this.published++;
    } catch (error) {
      this.errors++;
      this.#log.warn({ bus: this.bus.name, err: error }, 'publishing an invalidation failed');
    }
  }
}
