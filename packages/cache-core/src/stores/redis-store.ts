import { randomBytes } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { CacheStoreError } from '../errors.js';
import { compilePattern } from '../pattern.js';
import type { CacheStore, StoredEntry } from './cache-store.js';
import { decodeEntry, encodeEntry, type CodecOptions } from './codec.js';

export interface RedisStoreOptions extends CodecOptions {
  /** `redis://host:port/db`; ignored when `client` or `clusterNodes` is given. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /** Redis Cluster seed nodes. */
  clusterNodes?: ClusterNode[];
  /** An ioredis client (standalone or Cluster) you own; the store will not close it. */
  client?: Redis | Cluster;
  /** Prefix of every key this store writes. @default 'pm:' */
  keyPrefix?: string;
  /** Bound on one command; nothing waits longer, nothing queues while disconnected. @default 500 */
  commandTimeoutMs?: number;
  /** Largest record accepted, in bytes. @default 64 MiB */
  maxRecordBytes?: number;
}

/** Connection settings that bound every command in time and queue nothing while Redis is down. */
export function boundedRedisOptions(commandTimeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(1000, commandTimeoutMs),
    maxRetriesPerRequest: 1,
    // Reconnect forever, backing off to 1 s, so a returning Redis is found within a second.
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 1000),
  };
}

/** Whether a client in this ioredis status must be told to connect (it is neither connecting nor connected). */
export function needsConnect(status: string): boolean {
  return !['connecting', 'connect', 'ready', 'reconnecting'].includes(status);
}

/**
 * Disconnects and resolves once the client has really ended (its status lags behind
 * disconnect()), or after a second at most: a client that never connected may never say 'end'.
 */
export async function closeClient(client: Redis | Cluster): Promise<void> {
  if (client.status === 'end' || client.status === 'wait') return;
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<void>((resolve) => {
    client.once('end', () => { resolve(); });
    timer = setTimeout(resolve, 1000);
  });
  client.disconnect();
  if ((client.status as string) !== 'end') await ended;
  clearTimeout(timer);
}

const UNLINK_BATCH = 500;
const RELEASE_LOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const REDIS_GLOB = /[*?[\]\\]/g;

/**
 * The shared tier on a real Redis, standalone or Cluster (ioredis: first-class Cluster support,
 * per-command timeouts, and the same client bentocache uses). Values are msgpack with a format
 * version, deflated where it pays; Redis keeps the TTL; invalidation SCANs (never KEYS) every
 * master and UNLINKs in batches grouped by slot; `mget` is one MGET per slot.
 */
export class RedisStore implements CacheStore {
  readonly name = 'redis';
  readonly keyPrefix: string;
  readonly #client: Redis | Cluster;
  readonly #owned: boolean;
  readonly #codec: CodecOptions;
  readonly #maxRecordBytes: number;

  constructor(options: RedisStoreOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? 'pm:';
    const timeout = options.commandTimeoutMs ?? 500;
    this.#maxRecordBytes = options.maxRecordBytes ?? 64 * 1024 * 1024;
    this.#codec = { ...(options.compressAbove === undefined ? {} : { compressAbove: options.compressAbove }) };
    if (options.client !== undefined) {
      this.#client = options.client;
      this.#owned = false;
    } else if (options.clusterNodes !== undefined) {
      this.#client = new Cluster(options.clusterNodes, { lazyConnect: true, enableOfflineQueue: false, redisOptions: boundedRedisOptions(timeout), clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 1000) });
      this.#owned = true;
    } else {
      this.#client = new Redis(options.url ?? 'redis://127.0.0.1:6379', boundedRedisOptions(timeout));
      this.#owned = true;
    }
    // ioredis reports connection errors as events; the tier's health and breaker track them.
    this.#client.on('error', () => undefined);
  }

  get client(): Redis | Cluster {
    return this.#client;
  }

  async connect(): Promise<void> {
    // Connect unless already under way: 'wait' (lazyConnect) or closed by close(), so that
    // start() after stop() reconnects.
    if (!needsConnect(this.#client.status)) return;
    try {
      await this.#client.connect();
    } catch (error) {
      throw new CacheStoreError(`cannot connect to Redis: ${(error as Error).message}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (this.#owned) await closeClient(this.#client);
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    const record = await this.#client.getBuffer(this.keyPrefix + key);
    return record === null ? undefined : this.#decode(record, key);
  }

  async mget(keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    if (keys.length === 0) return [];
    const results = new Array<StoredEntry | undefined>(keys.length);
    const items = keys.map((key, index) => ({ key, index }));
    await Promise.all(
      [...this.#bySlot(items, (item) => this.keyPrefix + item.key).values()].map(async (group) => {
        const records = await this.#client.mgetBuffer(...group.map((item) => this.keyPrefix + item.key));
        group.forEach(({ key, index }, j) => {
          const record = records[j];
          results[index] = record === null || record === undefined ? undefined : this.#decode(record, key);
        });
      }),
    );
    return results;
  }

  async set(key: string, entry: StoredEntry): Promise<void> {
    const record = encodeEntry(entry, this.#codec);
    if (record.length > this.#maxRecordBytes) {
      throw new CacheStoreError(`entry "${key.slice(0, 200)}" needs ${record.length} bytes, more than maxRecordBytes (${this.#maxRecordBytes})`);
    }
    const ttlMs = entry.expiresAt - Date.now();
    if (ttlMs <= 0) {
      await this.#client.unlink(this.keyPrefix + key);
    } else if (Number.isFinite(ttlMs)) {
      await this.#client.set(this.keyPrefix + key, record, 'PX', Math.ceil(ttlMs));
    } else {
      await this.#client.set(this.keyPrefix + key, record);
    }
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#client.unlink(this.keyPrefix + key)) > 0;
  }

  async invalidate(pattern: string): Promise<number> {
    const matcher = compilePattern(pattern);
    // SCAN narrows by the pattern's literal head; the cache's own matcher decides, so Redis's
    // glob dialect never changes what matches.
    const head = /^[^*?[\\]*/.exec(pattern)?.[0] ?? '';
    const match = `${(this.keyPrefix + head).replace(REDIS_GLOB, '\\$&')}*`;
    let removed = 0;
    for (const node of this.#masters()) {
      let cursor = '0';
      do {
        const [next, batch] = await node.scanBuffer(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next.toString();
        const keys = batch.map((raw) => raw.toString('utf8')).filter((k) => k.startsWith(this.keyPrefix) && matcher.matches(k.slice(this.keyPrefix.length)));
        removed += await this.#unlink(keys);
      } while (cursor !== '0');
    }
    return removed;
  }

  async clear(): Promise<void> {
    await this.invalidate('*');
  }

  async health(): Promise<{ ok: boolean; latencyMs?: number; error?: string }> {
    const start = performance.now();
    try {
      await this.#client.ping();
      return { ok: true, latencyMs: performance.now() - start };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  async stats(): Promise<Record<string, number | string>> {
    let keys = 0;
    for (const node of this.#masters()) {
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', `${this.keyPrefix.replace(REDIS_GLOB, '\\$&')}*`, 'COUNT', 1000);
        cursor = next;
        keys += batch.filter((k) => !k.startsWith(`${this.keyPrefix}lock:`)).length;
      } while (cursor !== '0');
    }
    const info = await this.#masters()[0]?.info('memory');
    const used = /used_memory:(\d+)/.exec(info ?? '')?.[1];
    return { store: 'redis', keyPrefix: this.keyPrefix, keys, masters: this.#masters().length, usedMemoryBytes: used === undefined ? 'unknown' : Number(used) };
  }

  async lock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const lockKey = `${this.keyPrefix}lock:${key}`;
    const token = randomBytes(12).toString('hex');
    const taken = await this.#client.set(lockKey, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    if (taken !== 'OK') return undefined;
    return async () => {
      // Only the holder releases: a lock that expired and was taken by another process stays.
      await this.#client.eval(RELEASE_LOCK, 1, lockKey, token);
    };
  }

  #decode(record: Buffer, key: string): StoredEntry | undefined {
    try {
      const entry = decodeEntry(record);
      return entry.expiresAt <= Date.now() ? undefined : entry;
    } catch (error) {
      throw new CacheStoreError(`the record of "${key.slice(0, 200)}" cannot be decoded: ${(error as Error).message}`, { cause: error });
    }
  }

  #masters(): Redis[] {
    return this.#client instanceof Cluster ? this.#client.nodes('master') : [this.#client];
  }

  /** Groups items by the cluster slot of their key; one group on a standalone server. */
  #bySlot<T>(items: readonly T[], keyOf: (item: T) => string): Map<number, T[]> {
    const groups = new Map<number, T[]>();
    const cluster = this.#client instanceof Cluster;
    for (const item of items) {
      const slot = cluster ? calculateSlot(keyOf(item)) : 0;
      let group = groups.get(slot);
      if (group === undefined) groups.set(slot, (group = []));
      group.push(item);
    }
    return groups;
  }

  async #unlink(keys: readonly string[]): Promise<number> {
    let removed = 0;
    for (const group of this.#bySlot(keys, (k) => k).values()) {
      for (let i = 0; i < group.length; i += UNLINK_BATCH) removed += await this.#client.unlink(...group.slice(i, i + UNLINK_BATCH));
    }
    return removed;
  }
}
