import { randomUUID } from 'node:crypto';
import { Cluster, Redis, type ClusterNode } from 'ioredis';
import type { InvalidationBus, InvalidationMessage } from './cache-store.js';
import { boundedRedisOptions, closeClient, needsConnect } from './redis-store.js';

export interface RedisInvalidationBusOptions {
  /** @default 'redis://127.0.0.1:6379' */
  url?: string;
  /** Redis Cluster seed nodes (PUBLISH reaches subscribers on every node). */
  clusterNodes?: ClusterNode[];
  /** @default 'pm:invalidation' */
  channel?: string;
  /** @default 500 */
  commandTimeoutMs?: number;
}

interface Envelope {
  /** The publishing instance, so an instance can ignore its own messages. */
  o: string;
  m: InvalidationMessage;
}

type Handlers = Parameters<InvalidationBus['subscribe']>[0];

/**
 * Cross-process invalidation over Redis pub/sub. Each instance ignores its own messages; when
 * its subscription comes back after an outage it calls `onReconnect`, because messages sent
 * meanwhile are lost (pub/sub does not buffer) and its L1 may hold stale copies.
 */
export class RedisInvalidationBus implements InvalidationBus {
  readonly name = 'redis-bus';
  readonly instanceId = randomUUID();
  readonly channel: string;
  readonly #publisher: Redis | Cluster;
  readonly #subscriber: Redis | Cluster;
  #handlers: Handlers | undefined;
  /** never: not yet subscribed; up: subscribed; down: was subscribed (or failed to), now not. */
  #state: 'never' | 'up' | 'down' = 'never';

  constructor(options: RedisInvalidationBusOptions = {}) {
    this.channel = options.channel ?? 'pm:invalidation';
    const make = (): Redis | Cluster => {
      const redisOptions = boundedRedisOptions(options.commandTimeoutMs ?? 500);
      return options.clusterNodes === undefined
        ? new Redis(options.url ?? 'redis://127.0.0.1:6379', redisOptions)
        : new Cluster(options.clusterNodes, { lazyConnect: true, enableOfflineQueue: false, redisOptions, clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 1000) });
    };
    this.#publisher = make();
    this.#subscriber = make();
    for (const client of [this.#publisher, this.#subscriber]) client.on('error', () => undefined);
    this.#subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.#receive(text);
    });
    // Subscribe on every (re)connection; a subscription that comes back after a gap means a resync.
    this.#subscriber.on('ready', () => {
      this.#subscribe().catch(() => undefined); // the next 'ready' tries again
    });
    this.#subscriber.on('close', () => {
      if (this.#state === 'up') this.#state = 'down';
    });
  }

  get connected(): boolean {
    return this.#state === 'up';
  }

  subscribe(handlers: Handlers): void {
    this.#handlers = handlers;
  }

  async connect(): Promise<void> {
    const connect = async (client: Redis | Cluster) => {
      if (needsConnect(client.status)) await client.connect();
    };
    try {
      await Promise.all([connect(this.#publisher), connect(this.#subscriber)]);
      await this.#subscribe();
    } catch (error) {
      // ioredis goes on reconnecting; the subscription is made when it succeeds.
      this.#state = 'down';
      throw error;
    }
  }

  async publish(message: InvalidationMessage): Promise<void> {
    const envelope: Envelope = { o: this.instanceId, m: message };
    await this.#publisher.publish(this.channel, JSON.stringify(envelope));
  }

  async close(): Promise<void> {
    await Promise.all([closeClient(this.#publisher), closeClient(this.#subscriber)]);
    this.#state = 'never';
  }

  async #subscribe(): Promise<void> {
    if (this.#state === 'up') return;
    await this.#subscriber.subscribe(this.channel);
    const wasDown = this.#state === 'down';
    this.#state = 'up';
    if (wasDown) this.#handlers?.onReconnect();
  }

  #receive(text: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      return;
    }
    if (envelope.o === this.instanceId || typeof envelope.m !== 'object') return;
    this.#handlers?.onMessage(envelope.m);
  }
}
