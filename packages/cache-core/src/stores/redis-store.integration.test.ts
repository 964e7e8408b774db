import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis, type Cluster } from 'ioredis';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FORMAT_VERSION } from './codec.js';
import { RedisProcess, clusterNodesFromEnv, redisTestsEnabled, startCluster } from '../testing/redis-server.js';
import { SharedPromptCache } from '../shared-prompt-cache.js';
import { RedisInvalidationBus } from '../bus/redis-bus.js';
import { RedisStore } from './redis-store.js';
import { describeStoreConformance } from '../testing/store-conformance.js';

const enabled = await redisTestsEnabled('RedisStore integration');
const run = promisify(execFile);
let server: RedisProcess | undefined;
let url = process.env.PM_REDIS_URL ?? '';
let cluster: { nodes: { host: string; port: number }[]; stop: () => Promise<void> } | undefined;
let prefixes = 0;
const uniquePrefix = () => `pm-test-${process.pid}-${++prefixes}:`;

beforeAll(async () => {
  if (!enabled) return;
  if (url === '') {
    server = await RedisProcess.start();
    url = server.url;
  }
  const fromEnv = clusterNodesFromEnv();
  cluster = fromEnv === undefined ? await startCluster() : { nodes: fromEnv, stop: async () => undefined };
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await cluster?.stop();
});

describe.runIf(enabled)('RedisStore (standalone)', () => {
  describeStoreConformance(
    'RedisStore standalone',
    async () => {
      const store = new RedisStore({ url, keyPrefix: uniquePrefix() });
      await store.connect();
      return store;
    },
    { lock: true },
  );
});

describe.runIf(enabled)('RedisStore (Cluster, 3 masters)', () => {
  describeStoreConformance(
    'RedisStore cluster',
    async () => {
      const store = new RedisStore({ clusterNodes: cluster!.nodes, keyPrefix: uniquePrefix() });
      await store.connect();
      return store;
    },
    { lock: true },
  );

  it('spreads keys over every master and still invalidates and reads them all', async () => {
    const store = new RedisStore({ clusterNodes: cluster!.nodes, keyPrefix: uniquePrefix() });
    await store.connect();
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `task_prompt:agent-${i % 6}:${i}`);
      for (const key of keys) await store.set(key, { value: key, expiresAt: Infinity });
      const perNode = await Promise.all(
        cluster!.nodes.map(async ({ port }) => Number((await run('redis-cli', ['-p', String(port), 'dbsize'])).stdout.trim())),
      );
      expect(perNode.every((n) => n > 0)).toBe(true);
      expect((await store.mget(keys)).map((e) => e?.value)).toEqual(keys);
      expect(await store.invalidate('task_prompt:agent-1:*')).toBe(50);
      expect(await store.invalidate('task_prompt:*')).toBe(250);
    } finally {
      await store.close();
    }
  });

  it('batches the writes of one tick on every master, and each caller gets its own reply', async () => {
    const store = new RedisStore({ clusterNodes: cluster!.nodes, keyPrefix: uniquePrefix() });
    await store.connect();
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `agent:${i}`);
      // The first command of each burst goes out alone; the rest wait for the end of the tick, on all three masters.
      await Promise.all(keys.map((key) => store.set(key, { value: `prompt of ${key}`, expiresAt: Infinity })));
      const corked = (store.client as Cluster).nodes('master').filter((node) => node.stream.writableCorked > 0);
      const reads = await Promise.all(keys.map((key) => store.get(key)));
      expect(reads.map((e) => e?.value)).toEqual(keys.map((key) => `prompt of ${key}`));
      expect(corked).toEqual([]);
      const during = keys.map((key) => store.get(key));
      expect((store.client as Cluster).nodes('master').every((node) => node.stream.writableCorked === 1)).toBe(true);
      expect((await Promise.all(during)).every((e, i) => e?.value === `prompt of ${keys[i]}`)).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe.runIf(enabled)('two caches sharing a Redis Cluster', () => {
  it('share values, hear each other on the bus and compute once under the lock', async () => {
    const prefix = uniquePrefix();
    const make = () =>
      new SharedPromptCache({
        l2: new RedisStore({ clusterNodes: cluster!.nodes, keyPrefix: prefix }),
        bus: new RedisInvalidationBus({ clusterNodes: cluster!.nodes, channel: `${prefix}bus` }),
        distributedLock: '2s',
      });
    const [a, b] = [make(), make()];
    await Promise.all([a.start(), b.start()]);
    try {
      expect(await a.healthCheck()).toMatchObject({ status: 'healthy', checks: { l2: true, bus: true } });
      await a.set('task_prompt:c:1', 'v1');
      expect(await b.get('task_prompt:c:1')).toBe('v1');
      await a.set('task_prompt:c:1', 'v2');
      await vi.waitFor(
        () => {
          expect(b.getSync('task_prompt:c:1')).toBeUndefined();
        },
        { timeout: 2000, interval: 5 },
      );
      expect(await b.get('task_prompt:c:1')).toBe('v2');
      await a.invalidate('task_prompt:*');
      await vi.waitFor(
        () => {
          expect(b.getSync('task_prompt:c:1')).toBeUndefined();
        },
        { timeout: 2000, interval: 5 },
      );
      let computations = 0;
      const compute = async () => {
        computations++;
        await new Promise((resolve) => setTimeout(resolve, 100));
        return 'once';
      };
      expect(await Promise.all([a.getOrCompute('job', compute), b.getOrCompute('job', compute)])).toEqual(['once', 'once']);
      expect(computations).toBe(1);
    } finally {
      await a.clear();
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 30_000);
});

describe.runIf(enabled)('RedisStore on the wire', () => {
  let store: RedisStore;
  let raw: Redis;
  beforeAll(async () => {
    store = new RedisStore({ url, keyPrefix: uniquePrefix() });
    await store.connect();
    raw = new Redis(url);
  });
  afterAll(async () => {
    await store.clear();
    await store.close();
    raw.disconnect();
  });

  it('lets Redis keep the TTL', async () => {
    await store.set('ttl:a', { value: 1, expiresAt: Date.now() + 30_000 });
    await store.set('ttl:forever', { value: 1, expiresAt: Infinity });
    const pttl = await raw.pttl(`${store.keyPrefix}ttl:a`);
    expect(pttl).toBeGreaterThan(29_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
    expect(await raw.pttl(`${store.keyPrefix}ttl:forever`)).toBe(-1);
  });

  it('writes a versioned binary record, compressed only where it pays', async () => {
    const prompt = 'You are the engineer agent. Keep changes small. '.repeat(300); // 14 KB: above the 8 KiB threshold
    await store.set('big', { value: prompt, expiresAt: Infinity });
    await store.set('small', { value: 'hi', expiresAt: Infinity });
    const big = (await raw.getBuffer(`${store.keyPrefix}big`))!;
    const small = (await raw.getBuffer(`${store.keyPrefix}small`))!;
    expect(big[0]).toBe(FORMAT_VERSION);
    const deflated = (record: Buffer) => record[1]! & 1;
    expect(deflated(big)).toBe(1);
    expect(big.length).toBeLessThan(prompt.length / 5);
    expect(deflated(small)).toBe(0); // too small to pay
    await store.set('medium', { value: prompt.slice(0, 2048), expiresAt: Infinity });
    expect(deflated((await raw.getBuffer(`${store.keyPrefix}medium`))!)).toBe(0); // 2 KB: inflating would cost more than it saves
  });

  it("reads another format version's record as a miss and leaves it for the release that wrote it", async () => {
    await raw.set(`${store.keyPrefix}future`, Buffer.from([99, 0, 1, 2, 3]));
    const before = store.corruptions;
    expect(await store.get('future')).toBeUndefined();
    expect(store.corruptions).toBe(before);
    expect(await raw.exists(`${store.keyPrefix}future`)).toBe(1);
  });

  it.each([1, 2])("reads a previous release's records (codec format %i: the value inside msgpack)", async (version) => {
    await raw.set(`${store.keyPrefix}old`, Buffer.concat([Buffer.from([version, 0]), pack({ v: 'written by 0.x', e: Infinity, p: 0 })]));
    expect((await store.get('old'))?.value).toBe('written by 0.x');
  });

  it('reads an undecodable record as a miss and counts it as a corruption, never as an error', async () => {
    await raw.set(`${store.keyPrefix}garbage`, Buffer.from([FORMAT_VERSION, 0, 0xc1, 0xff, 0xff]));
    const before = store.corruptions;
    expect(await store.get('garbage')).toBeUndefined();
    expect(await store.mget(['garbage', 'nothing'])).toEqual([undefined, undefined]);
    expect(store.corruptions).toBe(before + 2);
  });

  it('invalidates with SCAN, never KEYS', async () => {
    await raw.config('RESETSTAT');
    for (let i = 0; i < 50; i++) await store.set(`scan:${i}`, { value: i, expiresAt: Infinity });
    expect(await store.invalidate('scan:*')).toBe(50);
    const stats = await raw.info('commandstats');
    expect(stats).toMatch(/cmdstat_scan:/);
    expect(stats).toMatch(/cmdstat_unlink:/);
    expect(stats).not.toMatch(/cmdstat_keys:/);
  });

  it('reads many keys with one MGET', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `mget:${i}`);
    for (const key of keys) await store.set(key, { value: key, expiresAt: Infinity });
    await raw.config('RESETSTAT');
    expect((await store.mget(keys)).map((e) => e?.value)).toEqual(keys);
    expect(await raw.info('commandstats')).toMatch(/cmdstat_mget:calls=1,/);
  });

  it('rejects values larger than maxRecordBytes', async () => {
    const tight = new RedisStore({ url, keyPrefix: uniquePrefix(), maxRecordBytes: 1024, compressAbove: Infinity });
    await tight.connect();
    await expect(tight.set('huge', { value: 'x'.repeat(5000), expiresAt: Infinity })).rejects.toThrow(/more than maxRecordBytes/);
    await tight.close();
  });

  it('keeps locks and tag sets out of the key space a user can write', async () => {
    const store = new RedisStore({ url, keyPrefix: uniquePrefix() });
    await store.connect();
    await store.set('tag:t', { value: 'user key', expiresAt: Infinity });
    await store.set('lock:k', { value: 'user key', expiresAt: Infinity });
    await store.set('x', { value: 1, expiresAt: Infinity, tags: ['t'] });
    const lease = await store.lock('k', 5000);
    expect(lease).toBeDefined();
    expect((await store.get('tag:t'))?.value).toBe('user key');
    expect((await store.get('lock:k'))?.value).toBe('user key');
    expect(await store.invalidate('*')).toBe(3); // the tag set and the lock are not keys
    await lease!.release();
    await store.clear();
    expect(await raw.keys(`${store.keyPrefix}*`)).toEqual([]); // clear removes the tag sets too
    await store.close();
  });
});
