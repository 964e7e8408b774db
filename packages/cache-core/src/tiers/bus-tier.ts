import { withTimeout, type Logger } from '@pm/service-manager/contract';
import {
  INVALIDATION_MESSAGE_TYPES,
  type InvalidationBus,
  type InvalidationMessage,
  type InvalidationMessageType,
} from '../bus/invalidation-bus.js';

/** The bus figures of `getMetrics().bus`. */
export interface BusMetrics {
  name: string;
  connected: boolean;
  published: number;
  received: number;
  /** Messages by type, sent and heard. */
  publishedByType: Record<InvalidationMessageType, number>;
  receivedByType: Record<InvalidationMessageType, number>;
  errors: number;
  /** Times L1 was cleared because the bus had been down and messages may have been missed. */
  resyncs: number;
}

const zeroByType = (): Record<InvalidationMessageType, number> =>
  Object.fromEntries(INVALIDATION_MESSAGE_TYPES.map((type) => [type, 0])) as Record<InvalidationMessageType, number>;

/** The invalidation bus, bounded in time, with counters. */
export class BusTier {
  readonly bus: InvalidationBus;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly publishedByType = zeroByType();
  readonly receivedByType = zeroByType();
  errors = 0;
  resyncs = 0;

  constructor(bus: InvalidationBus, timeoutMs: number, log: Logger) {
    this.bus = bus;
    this.#timeoutMs = timeoutMs;
    this.#log = log;
  }

  metrics(): BusMetrics {
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    return {
      name: this.bus.name,
      connected: this.bus.connected,
      published: sum(this.publishedByType),
      received: sum(this.receivedByType),
      publishedByType: { ...this.publishedByType },
      receivedByType: { ...this.receivedByType },
      errors: this.errors,
      resyncs: this.resyncs,
    };
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

  /** Publishes, bounded; resolves false (counted, logged) when it could not. */
  async publish(message: InvalidationMessage): Promise<boolean> {
    try {
      await withTimeout(() => this.bus.publish(message), this.#timeoutMs, `${this.bus.name} publish`);
      this.publishedByType[message.type]++;
      return true;
    } catch (error) {
      this.errors++;
      this.#log.warn(
        { bus: this.bus.name, type: message.type, err: error },
        'publishing on the invalidation bus failed; it will be replayed',
      );
      return false;
    }
  }

  received(message: InvalidationMessage): void {
    this.receivedByType[message.type]++;
  }
}
