import { randomBytes } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { CacheStoreError, quoteKey } from '../errors.js';
import { compilePattern } from '../invalidation/pattern.js';
import type { Announcement, CacheStore, KeyListing, ReadOrLock, StoredEntry, StoreLease } from './cache-store.js';
import { decodeEntry, encodeEntry, readsFormat, type CodecOptions } from './codec.js';
import { RedisConnection, type RedisConnectionOptions } from './redis-connection.js';
import { READ_OR_LOCK, RELEASE_LOCK, RENEW_LOCK, runScript, SET_AND_PUBLISH } from './redis-scripts.js';

export interface RedisStoreOptions extends CodecOptions, RedisConnectionOptions {
  /** Prefix of every key this store writes. @default 'pm:' */
  keyPrefix?: string;
  /** Largest record accepted, in bytes. @default 64 MiB */
  maxRecordBytes?: number;
}

const UNLINK_BATCH = 500;
/** A lock this store took: its key and the token that proves it is ours. */
interface OwnLock {
  readonly key: Buffer;
  readonly token: string;
}

/**
 * Tag sets and locks live beside the data under `<prefix>\xff...`: data keys are UTF-8 and never
 * hold the byte 0xFF, so no user key can collide with them.
 */
const META = Buffer.from([0xff]);
const REDIS_GLOB = /[*?[\]\\]/g;

/**
 * The shared tier on a real Redis, standalone or Cluster (ioredis: first-class Cluster support,
 * per-command timeouts, and the same client bentocache uses). Values are msgpack with a format
 * version, deflated where it pays; Redis keeps the TTL; invalidation SCANs (never KEYS) every
 * master and UNLINKs in batches grouped by slot; `mget` is one MGET per slot.
 *
 * A record that does not decode is a miss, counted in `corruptions`, never an error: one bad
 * record must not make the whole tier look down. A record of another format version is a miss
 * and is left alone (a rolling upgrade). Errors say whether Redis refused the credentials or
 * did not answer, and never contain a password.
 */
export class RedisStore implements CacheStore {
  readonly name = 'redis';
  readonly keyPrefix: string;
  readonly connection: RedisConnection;
  readonly #codec: CodecOptions;
  readonly #maxRecordBytes: number;
  readonly #prefixBytes: Buffer;
  #corruptions = 0;
  /** The locks behind this store's leases, for a write that releases one (`setAndPublish`). */
  readonly #leases = new WeakMap<StoreLease, OwnLock>();

  constructor(options: RedisStoreOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? 'pm:';
    this.#prefixBytes = Buffer.from(this.keyPrefix, 'utf8');
    this.#maxRecordBytes = options.maxRecordBytes ?? 64 * 1024 * 1024;
    this.#codec = { ...(options.compressAbove === undefined ? {} : { compressAbove: options.compressAbove }) };
    this.connection = new RedisConnection(options);
  }

  get client(): Redis | Cluster {
    return this.connection.client;
  }

  /** Records that did not decode since this store was created. */
  get corruptions(): number {
    return this.#corruptions;
  }

  async connect(): Promise<void> {
    await this.connection.connect();
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  get(key: string): Promise<StoredEntry | undefined> {
    return this.#run(
      'read from',
      () => this.client.getBuffer(this.keyPrefix + key),
      (record) => (record === null ? undefined : this.#decode(record)),
    );
  }

  async mget(keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    if (keys.length === 0) return [];
    const results = new Array<StoredEntry | undefined>(keys.length);
    const items = keys.map((key, index) => ({ key, index }));
    await Promise.all(
      [...this.#bySlot(items, (item) => this.keyPrefix + item.key).values()].map(async (group) => {
        const records = await this.#run('read from', () => this.client.mgetBuffer(...group.map((item) => this.keyPrefix + item.key)));
        group.forEach(({ index }, j) => {
          const record = records[j];
          results[index] = record === null || record === undefined ? undefined : this.#decode(record);
        });
      }),
    );
    return results;
  }

  async set(key: string, entry: StoredEntry): Promise<void> {
    await this.#write(key, entry, undefined);
  }

  async setAndPublish(key: string, entry: StoredEntry, announcement: Announcement, lease?: StoreLease): Promise<boolean> {
    // On a Cluster the record and its lock live in different slots: one script cannot touch both.
    const held = lease === undefined || this.connection.isCluster ? undefined : this.#leases.get(lease);
    return this.#write(key, entry, announcement, held);
  }

  /** Resolves whether it released `lock` too. */
  async #write(key: string, entry: StoredEntry, announcement: Announcement | undefined, lock?: OwnLock): Promise<boolean> {
    const record = encodeEntry(entry, this.#codec);
    if (record.length > this.#maxRecordBytes) {
      throw new CacheStoreError(`entry ${quoteKey(key)} needs ${record.length} bytes, more than maxRecordBytes (${this.#maxRecordBytes})`, {
        reason: 'refused',
      });
    }
    const ttlMs = entry.expiresAt - Date.now();
    const redisKey = this.keyPrefix + key;
    return this.#run('write to', async () => {
      if (ttlMs <= 0) {
        await this.client.unlink(redisKey);
        if (announcement !== undefined) await this.client.publish(announcement.channel, announcement.payload);
        return false;
      }
      // The tag index first: a record that is written but not indexed could never be invalidated by tag.
      if (entry.tags !== undefined && entry.tags.length > 0) await this.#index(key, entry.tags, ttlMs);
      const px = Number.isFinite(ttlMs) ? String(Math.ceil(ttlMs)) : '';
      if (announcement !== undefined) {
        const keys = lock === undefined ? [redisKey] : [redisKey, lock.key];
        await runScript(
          this.client,
          SET_AND_PUBLISH,
          keys,
          record,
          px,
          announcement.channel,
          announcement.payload,
          ...(lock === undefined ? [] : [lock.token]),
        );
        return lock !== undefined;
      }
      if (px !== '') await this.client.set(redisKey, record, 'PX', px);
      else await this.client.set(redisKey, record);
      return false;
    });
  }

  /** Adds `key` to each tag's set, which lives at least as long as its longest-lived member. */
  async #index(key: string, tags: readonly string[], ttlMs: number): Promise<void> {
    await Promise.all(
      tags.map(async (tag) => {
        const setKey = this.#meta('tag', tag);
        await this.client.sadd(setKey, key);
        if (!Number.isFinite(ttlMs)) await this.client.persist(setKey);
        else if ((await this.client.pexpire(setKey, Math.ceil(ttlMs), 'NX')) === 0)
          await this.client.pexpire(setKey, Math.ceil(ttlMs), 'GT');
      }),
    );
  }

  async invalidateTags(tags: readonly string[]): Promise<number> {
    let removed = 0;
    for (const tag of new Set(tags)) {
      const setKey = this.#meta('tag', tag);
      const members = await this.#run('read tags from', () => this.client.smembers(setKey));
      if (members.length === 0) continue;
      removed += await this.#unlink(members.map((member) => this.keyPrefix + member));
      // Only the members read: a key tagged meanwhile stays indexed.
      await this.#run('update tags in', () => this.client.srem(setKey, ...members));
    }
    return removed;
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#run('delete from', () => this.client.unlink(this.keyPrefix + key))) > 0;
  }

  async invalidate(pattern: string): Promise<number> {
    let removed = 0;
    for await (const keys of this.#scanMatching(pattern)) removed += await this.#unlink(keys);
    return removed;
  }

  async keys(pattern: string, limit: number): Promise<KeyListing[]> {
    const listed: KeyListing[] = [];
    for await (const keys of this.#scanMatching(pattern)) {
      const facts = await Promise.all(
        keys.map(async (redisKey) => {
          const [sizeBytes, ttl] = await this.#run('read from', () =>
            Promise.all([this.client.strlen(redisKey), this.client.pttl(redisKey)]),
          );
          return { key: redisKey.slice(this.keyPrefix.length), sizeBytes, ttlMs: ttl === -1 ? Infinity : ttl };
        }),
      );
      // -2: gone between SCAN and PTTL.
      listed.push(...facts.filter((fact) => fact.ttlMs !== -2));
      if (listed.length >= limit) return listed.slice(0, limit);
    }
    return listed;
  }

  /**
   * The data keys matching `pattern`, a batch at a time, from every master. SCAN narrows by the
   * pattern's literal prefix; the cache's own matcher decides, so Redis's glob dialect never
   * changes what matches.
   */
  async *#scanMatching(pattern: string): AsyncGenerator<string[]> {
    const matcher = compilePattern(pattern);
    const match = `${(this.keyPrefix + matcher.prefix).replace(REDIS_GLOB, '\\$&')}*`;
    for (const node of this.connection.masters()) {
      let cursor = '0';
      do {
        const [next, batch] = await this.#run('scan', () => node.scanBuffer(cursor, 'MATCH', match, 'COUNT', 1000));
        cursor = next.toString();
        yield batch
          .filter((raw) => !this.#isMeta(raw))
          .map((raw) => raw.toString('utf8'))
          .filter((k) => k.startsWith(this.keyPrefix) && matcher.matches(k.slice(this.keyPrefix.length)));
      } while (cursor !== '0');
    }
  }

  /** Removes every record and tag set of this prefix (locks expire on their own). */
  async clear(): Promise<void> {
    await this.invalidate('*');
    const match = Buffer.concat([Buffer.from(this.keyPrefix.replace(REDIS_GLOB, '\\$&')), META, Buffer.from('tag:*')]);
    for (const node of this.connection.masters()) {
      let cursor = '0';
      do {
        const [next, batch] = await this.#run('scan', () => node.scanBuffer(cursor, 'MATCH', match as unknown as string, 'COUNT', 1000));
        cursor = next.toString();
        for (const group of this.#bySlot(batch, (k) => k).values()) await this.#run('delete from', () => this.client.unlink(...group));
      } while (cursor !== '0');
    }
  }

  async health(): Promise<{ ok: boolean; latencyMs?: number; error?: string }> {
    const start = performance.now();
    try {
      await this.client.ping();
      return { ok: true, latencyMs: performance.now() - start };
    } catch (error) {
      return { ok: false, error: this.connection.error('cannot reach', error).message.replace(/^\[cache-core\] /, '') };
    }
  }

  async stats(): Promise<Record<string, number | string>> {
    let keys = 0;
    for (const node of this.connection.masters()) {
      let cursor = '0';
      do {
        const [next, batch] = await this.#run('scan', () =>
          node.scan(cursor, 'MATCH', `${this.keyPrefix.replace(REDIS_GLOB, '\\$&')}*`, 'COUNT', 1000),
        );
        cursor = next;
        keys += batch.filter((k) => !k.startsWith(`${this.keyPrefix}\ufffd`)).length;
      } while (cursor !== '0');
    }
    const info = await this.#run('read INFO from', async () => this.connection.masters()[0]?.info('memory'));
    const used = /used_memory:(\d+)/.exec(info ?? '')?.[1];
    return {
      store: 'redis',
      target: this.connection.target,
      keyPrefix: this.keyPrefix,
      keys,
      masters: this.connection.masters().length,
      usedMemoryBytes: used === undefined ? 'unknown' : Number(used),
      corruptions: this.#corruptions,
    };
  }

  async lock(key: string, ttlMs: number): Promise<StoreLease | undefined> {
    const lockKey = this.#meta('lock', key);
    const token = randomBytes(12).toString('hex');
    const taken = await this.#run('lock in', () => this.client.set(lockKey, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
    return taken === 'OK' ? this.#lease(lockKey, token) : undefined;
  }

  async readOrLock(key: string, ttlMs: number): Promise<ReadOrLock | undefined> {
    if (this.connection.isCluster) return undefined;
    const lockKey = this.#meta('lock', key);
    const token = randomBytes(12).toString('hex');
    const keys = [this.keyPrefix + key, lockKey] as const;
    const args = [token, String(Math.max(1, Math.ceil(ttlMs)))] as const;
    const reply = (await this.#run('read from', async () => {
      try {
        return await this.client.callBuffer('evalsha', READ_OR_LOCK.sha, 2, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return this.client.callBuffer('eval', READ_OR_LOCK.lua, 2, ...keys, ...args);
      }
    })) as [number, Buffer?];
    if (reply[0] === 2) return { found: 'nothing', lease: this.#lease(lockKey, token) };
    if (reply[0] === 3) return { found: 'nothing', lease: undefined };
    const entry = reply[1] === undefined ? undefined : this.#decode(reply[1]);
    return entry === undefined ? { found: 'unusable' } : { found: 'entry', entry };
  }

  /** Only the holder renews or releases: a lock that expired and was taken by another process stays. */
  #lease(lockKey: Buffer, token: string): StoreLease {
    const lease: StoreLease = {
      renew: async (leaseMs) =>
        (await this.#run('renew a lock in', () =>
          runScript(this.client, RENEW_LOCK, [lockKey], token, String(Math.max(1, Math.ceil(leaseMs)))),
        )) === 1,
      release: async () => {
        await this.#run('unlock in', () => runScript(this.client, RELEASE_LOCK, [lockKey], token));
      },
    };
    this.#leases.set(lease, { key: lockKey, token });
    return lease;
  }

  #meta(kind: 'tag' | 'lock', name: string): Buffer {
    return Buffer.concat([this.#prefixBytes, META, Buffer.from(`${kind}:${name}`, 'utf8')]);
  }

  #isMeta(raw: Buffer): boolean {
    return raw[this.#prefixBytes.length] === 0xff && raw.subarray(0, this.#prefixBytes.length).equals(this.#prefixBytes);
  }

  /**
   * Runs one command, its reply mapped by `then`; a failure becomes a CacheStoreError that says
   * why (`cannot read from ...`), without credentials. One promise over the client's: every L2
   * call comes through here, and is written in one batch with the others of its tick when
   * replies are awaited (`WriteBatching`).
   */
  #run<T>(doing: string, command: () => Promise<T>): Promise<T>;
  #run<T, R>(doing: string, command: () => Promise<T>, then: (reply: T) => R): Promise<R>;
  #run<T, R>(doing: string, command: () => Promise<T>, then?: (reply: T) => R): Promise<T | R> {
    const writes = this.connection.writes;
    writes.sending();
    try {
      return command().then(
        (reply) => {
          writes.settled();
          return then === undefined ? reply : then(reply);
        },
        (error: unknown) => {
          writes.settled();
          throw this.connection.error(`cannot ${doing}`, error);
        },
      );
    } catch (error) {
      writes.settled();
      return Promise.reject(this.connection.error(`cannot ${doing}`, error));
    }
  }

  #decode(record: Buffer): StoredEntry | undefined {
    // Another release's format: theirs to read, not ours to count or delete.
    if (record.length > 0 && !readsFormat(record[0])) return undefined;
    try {
      const entry = decodeEntry(record);
      return entry.expiresAt <= Date.now() ? undefined : entry;
    } catch {
      this.#corruptions++;
      return undefined;
    }
  }

  /** Groups items by the cluster slot of their key; one group on a standalone server. */
  #bySlot<T>(items: readonly T[], keyOf: (item: T) => string | Buffer): Map<number, T[]> {
    const groups = new Map<number, T[]>();
    const cluster = this.connection.isCluster;
    for (const item of items) {
      const slot = cluster ? calculateSlot(keyOf(item)) : 0;
      let group = groups.get(slot);
      if (group === undefined) groups.set(slot, (group = []));
      group.push(item);
    }
    return groups;
  }

  async #unlink(keys: readonly (string | Buffer)[]): Promise<number> {
    let removed = 0;
    for (const group of this.#bySlot(keys, (k) => k).values()) {
      for (let i = 0; i < group.length; i += UNLINK_BATCH) {
        const batch = group.slice(i, i + UNLINK_BATCH);
        removed += await this.#run('delete from', () => this.client.unlink(...batch));
      }
    }
    return removed;
  }
}
