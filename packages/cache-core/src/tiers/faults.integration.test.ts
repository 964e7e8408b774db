/**
 * The shared tiers against real faults: Redis out of memory (noeviction), a process partitioned
 * from Redis by a proxy that is cut and healed, a corrupted record, a password, and values and
 * keys that cannot cross to L2 intact. Each test names the guarantee it checks.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { RedisInvalidationBus } from '../bus/redis-bus.js';
import { CacheKeyError, CacheSerializationError } from '../errors.js';
import { SharedPromptCache } from '../shared-prompt-cache.js';
import { FORMAT_VERSION } from '../stores/codec.js';
import { RedisStore } from '../stores/redis-store.js';
import { RedisProcess, redisTestsEnabled } from '../testing/redis-server.js';
import { TcpProxy } from '../testing/tcp-proxy.js';
import type { SharedPromptCacheOptions } from '../config.js';

const enabled = await redisTestsEnabled('shared tiers under faults');
const caches: SharedPromptCache[] = [];
let counter = 0;
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

/** A cache on `url` sharing the store prefix and bus channel `id` with the others of the test. */
async function cacheOn(url: string, id: string, options: SharedPromptCacheOptions = {}): Promise<SharedPromptCache> {
  const cache = new SharedPromptCache({
    l2: new RedisStore({ url, keyPrefix: `pm-fault-${id}:`, commandTimeoutMs: 300 }),
    bus: new RedisInvalidationBus({ url, channel: `pm-fault-${id}`, commandTimeoutMs: 300 }),
    tierTimeout: 400,
    ...options,
  });
  await cache.start();
  caches.push(cache);
  return cache;
}
const newId = () => `${process.pid}-${++counter}`;

/** Every line a logger was asked to write, as JSON, to search for secrets. */
function recordingLogger(): { logger: SharedPromptCacheOptions['logger']; lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (obj: Record<string, unknown>, msg?: string) => {
    lines.push(
      JSON.stringify({
        level,
        msg,
        ...obj,
        err:
          obj.err instanceof Error
            ? { message: obj.err.message, stack: obj.err.stack, cause: String((obj.err as { cause?: unknown }).cause) }
            : obj.err,
      }),
    );
  };
  return { logger: { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') }, lines };
}

describe.runIf(enabled)('Redis out of memory (maxmemory, noeviction)', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start(['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']);
  }, 30_000);
  afterAll(async () => {
    await redis.stop();
  });

  it('a refused write is not announced as a value: the old record is removed, others miss instead of serving it, health says why', async () => {
    const id = newId();
    const [a, b] = [await cacheOn(redis.url, id), await cacheOn(redis.url, id)];
    await a.set('agent_profile:qa', 'v1');
    expect(await b.get('agent_profile:qa')).toBe('v1'); // b holds v1 in L1
    // Fill Redis until it refuses even a small write.
    const raw = new Redis(redis.url);
    for (const size of [64 * 1024, 1024, 16]) {
      for (let i = 0; i < 10_000; i++) {
        const refused = await raw.set(`filler:${size}:${i}`, 'x'.repeat(size)).then(
          () => false,
          (error: unknown) => String(error).includes('OOM'),
        );
        if (refused) break;
      }
    }
    // Listen on the bus channel: the refused value must never be announced as a value.
    const listener = new Redis(redis.url);
    const heard: string[] = [];
    listener.on('message', (_channel: string, text: string) => heard.push(text.slice(text.indexOf('{'))));
    await listener.subscribe(`pm-fault-${id}`);
    await a.set('agent_profile:qa', 'v2'.repeat(50_000)); // refused by Redis; a keeps v2 locally
    await vi.waitFor(() => {
      expect(heard.map((text) => (JSON.parse(text) as { type: string }).type)).toEqual(['delete']);
    });
    listener.disconnect();
    expect(a.getSync('agent_profile:qa')).toBe('v2'.repeat(50_000));
    await vi.waitFor(
      () => {
        expect(b.getSync('agent_profile:qa')).toBeUndefined();
      },
      { timeout: 2000, interval: 5 },
    );
    expect(await b.get('agent_profile:qa')).toBeUndefined(); // the replaced value is gone from L2 too
    const health = await a.healthCheck();
    expect(health).toMatchObject({ status: 'degraded', checks: { l2: false } });
    expect(health.message).toMatch(/L2 \(redis\) refuses writes: .*OOM command not allowed/);
    expect(a.getMetrics().l2).toMatchObject({ available: true }); // a refusal is an answer: reads still go to L2
    // Memory freed: the next write lands, and health comes back.
    await raw.flushall();
    await a.set('agent_profile:qa', 'v3');
    expect(await a.healthCheck()).toMatchObject({ status: 'healthy' });
    expect(await b.get('agent_profile:qa')).toBe('v3');
    raw.disconnect();
  }, 30_000);
});

describe.runIf(enabled)('a process partitioned from Redis by a proxy', () => {
  let redis: RedisProcess;
  let proxy: TcpProxy;
  beforeAll(async () => {
    redis = await RedisProcess.start();
  }, 30_000);
  afterAll(async () => {
    await redis.stop();
  });
  afterEach(async () => {
    await proxy.close();
  });

  for (const mode of ['reset', 'blackhole'] as const) {
    it(`an invalidation made while cut off (${mode}) is replayed when the link heals, never undone`, async () => {
      proxy = await TcpProxy.start(redis.port);
      const id = newId();
      const a = await cacheOn(proxy.url(), id); // a reaches Redis through the proxy
      const b = await cacheOn(redis.url, id); // b directly
      await a.set('agent_profile:eng', 'old profile', { ttl: '1h' });
      expect(await b.get('agent_profile:eng')).toBe('old profile');
      expect(await a.get('agent_profile:eng')).toBe('old profile');
      proxy.cut(mode);
      const cutAt = Date.now();
      expect(await a.invalidate('agent_profile:*')).toBe(1);
      expect(Date.now() - cutAt).toBeLessThan(3000); // bounded even when nothing answers
      expect(a.getMetrics().l2?.replay.pending).toBeGreaterThanOrEqual(1);
      expect(await a.get('agent_profile:eng')).toBeUndefined();
      expect(b.getSync('agent_profile:eng')).toBe('old profile'); // b could not be told: it keeps its copy
      proxy.heal();
      const healedAt = Date.now();
      await vi.waitFor(
        () => {
          expect(b.getSync('agent_profile:eng')).toBeUndefined();
        },
        { timeout: 8000, interval: 20 },
      );
      const recoveryMs = Date.now() - healedAt;
      expect(await b.get('agent_profile:eng')).toBeUndefined();
      expect(await a.get('agent_profile:eng')).toBeUndefined(); // the invalidated profile stays gone
      await vi.waitFor(
        () => {
          expect(a.getMetrics().l2?.replay).toMatchObject({ pending: 0, replayed: 1 });
        },
        { timeout: 8000 },
      );
      expect(recoveryMs).toBeLessThan(8000);
    }, 30_000);
  }

  it('a read right after the link heals does not bring back a value whose removal is still queued', async () => {
    proxy = await TcpProxy.start(redis.port);
    const id = newId();
    const a = await cacheOn(proxy.url(), id);
    await a.set('task_prompt:x', 'stale');
    proxy.cut('reset');
    expect(await a.delete('task_prompt:x')).toBe(true);
    proxy.heal();
    // Whatever the replay's timing, L2's old record is never served while its removal waits.
    for (let i = 0; i < 50; i++) {
      expect(await a.get('task_prompt:x')).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }, 30_000);

  it('a write that timed out in a partition is never sent again when the link heals: failed means failed', async () => {
    proxy = await TcpProxy.start(redis.port);
    const store = new RedisStore({ url: proxy.url(), keyPrefix: `pm-resend-${newId()}:`, commandTimeoutMs: 200 });
    await store.connect();
    await store.set('k', { value: 'v1', expiresAt: Infinity });
    proxy.cut('blackhole');
    await expect(store.set('k', { value: 'v2', expiresAt: Infinity })).rejects.toThrow(/cache-core/);
    proxy.heal();
    await vi.waitFor(
      async () => {
        expect((await store.health()).ok).toBe(true);
      },
      { timeout: 5000, interval: 50 },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The cache had given v2 up (and queued the key's removal): a late v2 would land after newer writes.
    expect((await store.get('k'))?.value).toBe('v1');
    await store.close();
  });

  it('a write made while L2 is wholly unreachable is not announced, and its old record is removed once L2 is back', async () => {
    proxy = await TcpProxy.start(redis.port);
    const id = newId();
    const a = await cacheOn(proxy.url(), id);
    const b = await cacheOn(redis.url, id);
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    proxy.cut('reset');
    await a.set('k', 'v2');
    expect(a.getSync('k')).toBe('v2');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(b.getSync('k')).toBe('v1'); // nothing was announced: b keeps serving its copy
    proxy.heal();
    await vi.waitFor(
      () => {
        expect(b.getSync('k')).toBeUndefined();
      },
      { timeout: 8000, interval: 20 },
    );
    expect(await b.get('k')).toBeUndefined(); // v1 is gone from L2: b misses rather than reads it
  }, 30_000);
});

describe.runIf(enabled)('one bad record in Redis', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start();
  }, 30_000);
  afterAll(async () => {
    await redis.stop();
  });

  it('is a miss and a counted corruption, never an L2 error: the circuit stays closed and good keys keep hitting', async () => {
    const id = newId();
    const cache = await cacheOn(redis.url, id);
    const other = await cacheOn(redis.url, id);
    await other.set('good', 'value');
    const raw = new Redis(redis.url);
    await raw.set(`pm-fault-${id}:bad`, Buffer.from([FORMAT_VERSION, 0, 0xc1, 0xc1, 0xc1]));
    for (let i = 0; i < 10; i++) expect(await cache.get('bad')).toBeUndefined();
    expect(cache.getMetrics().l2).toMatchObject({ errors: 0, corruptions: 10, available: true });
    expect(await cache.get('good')).toBe('value');
    expect(await cache.healthCheck()).toMatchObject({ status: 'healthy' });
    raw.disconnect();
  });
});

describe.runIf(enabled)('keys and values that cannot cross to L2 intact', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start();
  }, 30_000);
  afterAll(async () => {
    await redis.stop();
  });

  it('refuses a key with an unpaired surrogate, so two keys never share one record', async () => {
    const cache = await cacheOn(redis.url, newId());
    for (const key of ['agent\ud800', 'agent\udfff', 'a\ud800b']) {
      await expect(cache.set(key, 1)).rejects.toBeInstanceOf(CacheKeyError);
      await expect(cache.get(key)).rejects.toThrow(/unpaired surrogate/);
    }
    await cache.set('agent\ud83d\ude00', 'a paired surrogate is fine');
    expect(await cache.get('agent\ud83d\ude00')).toBe('a paired surrogate is fine');
  });

  it('refuses up front what L2 would give back as something else (RegExp, ArrayBuffer, Error, class instances, sparse arrays)', async () => {
    const cache = await cacheOn(redis.url, newId());
    class Profile {
      constructor(readonly name: string) {}
    }
    const sparse: unknown[] = [1];
    sparse[2] = 3; // a hole at index 1
    for (const value of [/ab+c/, new ArrayBuffer(4), new Error('x'), new Profile('qa'), { nested: sparse }]) {
      const error = await cache.set('v', value).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CacheSerializationError);
      expect((error as Error).message).toMatch(/does not come back from the L2 tier|sparse array/);
    }
    expect(await cache.has('v')).toBe(false);
    // L1 alone holds references, so it takes them as they are.
    const local = new SharedPromptCache();
    local.setSync('v', /ab+c/);
    expect(local.getSync('v')).toBeInstanceOf(RegExp);
  });

  it('round-trips what it accepts, -0 and typed arrays included', async () => {
    const id = newId();
    const [a, b] = [await cacheOn(redis.url, id), await cacheOn(redis.url, id)];
    const value = { zero: -0, ints: new Int32Array([1, -2]), when: new Date(0), map: new Map([['k', new Set([1n])]]) };
    await a.set('v', value);
    const read = await b.get<typeof value>('v');
    expect(read).toStrictEqual(value);
    expect(Object.is(read?.zero, -0)).toBe(true);
  });
});

describe.runIf(enabled)('Redis with a password', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start(['--requirepass', 'sekrit-password-123']);
  }, 30_000);
  afterAll(async () => {
    await redis.stop();
  });

  it('reports a wrong password as an authentication failure, and never logs the password', async () => {
    const { logger, lines } = recordingLogger();
    const url = `redis://:wrong-password-456@127.0.0.1:${redis.port}`;
    const cache = await cacheOn(url, newId(), { logger });
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v'); // L1 keeps serving
    const health = await cache.healthCheck();
    expect(health.status).toBe('degraded');
    expect(health.message).toMatch(/authentication failed/);
    expect(health.message).not.toMatch(/unreachable/);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('wrong-password-456');
    expect(JSON.stringify(health)).not.toContain('wrong-password-456');
  });

  it('works with the right password, and never logs it', async () => {
    const { logger, lines } = recordingLogger();
    const url = `redis://:sekrit-password-123@127.0.0.1:${redis.port}`;
    const id = newId();
    const [a, b] = [await cacheOn(url, id, { logger }), await cacheOn(url, id, { logger })];
    await a.set('k', 'shared');
    expect(await b.get('k')).toBe('shared');
    expect(await a.healthCheck()).toMatchObject({ status: 'healthy' });
    expect(lines.join('\n')).not.toContain('sekrit-password-123');
  });
});
