import { randomUUID } from 'node:crypto';
import type { Announcement, CacheStore } from '../stores/cache-store.js';
import { RedisConnection, type RedisConnectionOptions } from '../stores/redis-connection.js';
import { RedisStore } from '../stores/redis-store.js';
import { parseMessage, type InvalidationBus, type InvalidationHandlers, type InvalidationMessage } from './invalidation-bus.js';

export interface RedisInvalidationBusOptions extends Omit<RedisConnectionOptions, 'client'> {
  /** @default 'pm:invalidation' */
  channel?: string;
}

/** Wire format v2: `pm2|<origin instance>|<message JSON>`; an instance skips its own echo without parsing it. */
const PROTOCOL = 'pm2';

/**
 * Cross-process invalidation over Redis pub/sub (standalone or Cluster: PUBLISH reaches
 * subscribers on every node). Each instance ignores its own messages; when its subscription
 * comes back after an outage it calls `onReconnect`, because messages sent meanwhile are lost
 * (pub/sub does not buffer) and its L1 may hold stale copies. Malformed messages are ignored.
 */
export class RedisInvalidationBus implements InvalidationBus {
  readonly name = 'redis-bus';
  readonly instanceId = randomUUID();
  readonly channel: string;
  readonly #ownPrefix: string;
  readonly #publisher: RedisConnection;
  readonly #subscriber: RedisConnection;
  #handlers: InvalidationHandlers | undefined;
  /** never: not yet subscribed; up: subscribed; down: was subscribed (or failed to), now not. */
  #state: 'never' | 'up' | 'down' = 'never';

  constructor(options: RedisInvalidationBusOptions = {}) {
    this.channel = options.channel ?? 'pm:invalidation';
    this.#ownPrefix = `${PROTOCOL}|${this.instanceId}|`;
    this.#publisher = new RedisConnection(options);
    this.#subscriber = new RedisConnection(options);
    const subscriber = this.#subscriber.client;
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.#receive(text);
    });
    // Subscribe on every (re)connection; a subscription that comes back after a gap means a resync.
    subscriber.on('ready', () => {
      this.#subscribe().catch(() => undefined); // the next 'ready' tries again
    });
    subscriber.on('close', () => {
      if (this.#state === 'up') this.#state = 'down';
    });
  }

  get connected(): boolean {
    return this.#state === 'up';
  }

  /** Why the bus is down, if it is: authentication or unreachable, credentials redacted. */
  get problem(): string | undefined {
    const problem = this.#subscriber.problem ?? this.#publisher.problem;
    return problem === undefined ? undefined : `${problem.kind === 'auth' ? 'authentication failed' : problem.kind}: ${problem.message}`;
  }

  subscribe(handlers: InvalidationHandlers): void {
    this.#handlers = handlers;
  }

  async connect(): Promise<void> {
    try {
      await Promise.all([this.#publisher.connect(), this.#subscriber.connect()]);
      await this.#subscribe();
    } catch (error) {
      // ioredis goes on reconnecting; the subscription is made when it succeeds.
      this.#state = 'down';
      throw error;
    }
  }

  /** The message as sent, for a RedisStore on the same server to publish with its write (one round trip). */
  announcement(message: InvalidationMessage, store: CacheStore): Announcement | undefined {
    if (!(store instanceof RedisStore) || !store.connection.sameServer(this.#publisher)) return undefined;
    return { channel: this.channel, payload: this.#encode(message) };
  }

  async publish(message: InvalidationMessage): Promise<void> {
    const writes = this.#publisher.writes;
    writes.sending();
    try {
      await this.#publisher.client.publish(this.channel, this.#encode(message));
    } catch (error) {
      throw this.#publisher.error('cannot publish to', error);
    } finally {
      writes.settled();
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#publisher.close(), this.#subscriber.close()]);
    this.#state = 'never';
  }

  async #subscribe(): Promise<void> {
    if (this.#state === 'up') return;
    await this.#subscriber.client.subscribe(this.channel);
    const wasDown = this.#state === 'down';
    this.#state = 'up';
    if (wasDown) this.#handlers?.onReconnect();
  }

  #encode(message: InvalidationMessage): string {
    return this.#ownPrefix + JSON.stringify(message);
  }

  #receive(text: string): void {
    if (text.startsWith(this.#ownPrefix) || !text.startsWith(`${PROTOCOL}|`)) return;
    const body = text.indexOf('|', PROTOCOL.length + 1);
    if (body === -1) return;
    let message: InvalidationMessage | undefined;
    try {
      message = parseMessage(JSON.parse(text.slice(body + 1)));
    } catch {
      return;
    }
    if (message !== undefined) this.#handlers?.onMessage(message);
  }
}
