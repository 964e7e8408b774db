import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { SharedPromptCache } from '../shared-prompt-cache.js';
import { FileStore } from '../stores/file-store.js';
import { RedisInvalidationBus } from '../bus/redis-bus.js';
import { freePort, RedisProcess, redisTestsEnabled } from '../testing/redis-server.js';
import { RedisStore } from '../stores/redis-store.js';
import type { InvalidationEvent } from '../types.js';

const enabled = await redisTestsEnabled('tiered cache integration');
const run = promisify(execFile);
const tsx = createRequire(import.meta.url).resolve('tsx');
const packageDir = fileURLToPath(new URL('../..', import.meta.url));
let server: RedisProcess | undefined;
let counter = 0;
const caches: SharedPromptCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});
beforeAll(async () => {
  if (enabled) server = await RedisProcess.start();
}, 30_000);
afterAll(async () => {
  await server?.stop();
});

/** `count` caches sharing one Redis (store prefix and bus channel unique to the test). */
async function sharedCaches(count: number, url = server!.url, options: ConstructorParameters<typeof SharedPromptCache>[0] = {}) {
  const id = `${process.pid}-${++counter}`;
  const made: SharedPromptCache[] = [];
  for (let i = 0; i < count; i++) {
    const cache = new SharedPromptCache({
      l2: new RedisStore({ url, keyPrefix: `pm-tier-${id}:`, commandTimeoutMs: 300 }),
      bus: new RedisInvalidationBus({ url, channel: `pm-tier-${id}`, commandTimeoutMs: 300 }),
      tierTimeout: 500,
      ...options,
    });
    await cache.start();
    made.push(cache);
    caches.push(cache);
  }
  return made;
}

describe.runIf(enabled)('two caches sharing Redis', () => {
  it('reads through L2, backfills L1 with the remaining TTL, and counts L2 hits', async () => {
    const [a, b] = await sharedCaches(2);
    await a!.set('task_prompt:x', 'built once', { ttl: '10m' });
    expect(b!.getSync('task_prompt:x')).toBeUndefined();
    expect(await b!.get('task_prompt:x')).toBe('built once');
    expect(b!.getSync('task_prompt:x')).toBe('built once');
    const ttl = b!.getCacheInfo().entries[0]!.ttlMs;
    expect(ttl).toBeLessThanOrEqual(600_000);
    expect(ttl).toBeGreaterThan(590_000);
    expect(b!.getMetrics().l2).toMatchObject({ name: 'redis', hits: 1, misses: 0, errors: 0, available: true });
    expect(b!.getMetrics()).toMatchObject({ hits: 2, misses: 1 }); // the getSync probe above missed L1
  });

  it('holds a value read from L2 in L1 as soon as get resolves: every view, count and removal sees it', async () => {
    const [a, b] = await sharedCaches(2);
    for (const key of ['agent:1', 'agent:2', 'agent:3', 'agent:4', 'task:1']) await a!.set(key, `v ${key}`, { tags: ['t'] });
    await a!.set('task:2', 'v task:2');
    // Each check runs right after the read resolves, before any other turn of the event loop.
    expect(await b!.get('agent:1')).toBe('v agent:1');
    expect(b!.getCacheInfo().entries.map((e) => e.key)).toEqual(['agent:1']);
    expect(await b!.get('agent:2')).toBe('v agent:2');
    expect(b!.getMetrics()).toMatchObject({ entryCount: 2, hits: 2, misses: 0 });
    expect(await b!.mget(['agent:2', 'agent:3'])).toEqual(['v agent:2', 'v agent:3']);
    const seen: string[][] = [];
    b!.onInvalidate('agent:*', (event) => {
      seen.push([...event.keys].sort());
    });
    expect(await b!.get('agent:4')).toBe('v agent:4');
    expect(await b!.invalidate('agent:[14]')).toBe(2);
    expect(seen).toEqual([['agent:1', 'agent:4']]);
    expect(b!.getMetrics()).toMatchObject({ entryCount: 2, hits: 5, misses: 0 });
    const [first, second] = await Promise.all([b!.get('task:1'), b!.get('task:1')]);
    expect([first, second]).toEqual(['v task:1', 'v task:1']);
    expect(await b!.invalidateTags(['t'])).toBe(3); // agent:2, agent:3 and task:1
    expect(await b!.get('task:2')).toBe('v task:2');
    expect(b!.evictOldest(10)).toBe(1);
    expect(await b!.get('task:2')).toBe('v task:2');
    b!.resetMetrics();
    expect(b!.getMetrics()).toMatchObject({ entryCount: 1, hits: 0, misses: 0 });
    await b!.clear();
    expect(b!.getMetrics().entryCount).toBe(0);
  });

  it('keeps a write made while an L2 read of its key was under way: the read does not put the older value back', async () => {
    const [a, b] = await sharedCaches(2);
    await a!.set('agent:qa', 'v1');
    await a!.set('agent:eng', 'old');
    // a's announcements land first: a message about a write is newer than anything b did before it.
    await vi.waitFor(() => {
      expect(b!.getMetrics().bus?.receivedByType.set).toBe(2);
    });
    const read = b!.get('agent:qa');
    b!.setSync('agent:qa', 'v2');
    expect(await read).toBe('v1'); // read before the write
    expect(b!.getSync('agent:qa')).toBe('v2');

    const [readBack] = await Promise.all([b!.get('agent:eng'), b!.set('agent:eng', 'new')]);
    expect(readBack).toBe('old');
    expect(b!.getSync('agent:eng')).toBe('new');
    await vi.waitFor(async () => {
      expect(await a!.get('agent:eng')).toBe('new');
    });
  });

  it('drops the other process L1 copy after a write, and ignores its own messages', async () => {
    const [a, b] = await sharedCaches(2);
    await a!.set('k', 'v1');
    expect(await b!.get('k')).toBe('v1');
    await a!.set('k', 'v2');
    await vi.waitFor(
      () => {
        expect(b!.getSync('k')).toBeUndefined();
      },
      { timeout: 1000, interval: 2 },
    );
    expect(await b!.get('k')).toBe('v2');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(a!.getSync('k')).toBe('v2');
    expect(a!.getMetrics().bus).toMatchObject({ connected: true, received: 0 });
    expect(b!.getMetrics().bus!.received).toBeGreaterThanOrEqual(2);
  });

  it('writes and announces a shared set in one round trip when the store and the bus share a server', async () => {
    const [a, b] = await sharedCaches(2);
    const raw = new Redis(server!.url);
    const calls = async () =>
      new Map([...(await raw.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
    await a!.set('agent_profile:warm', 'v0'); // Redis learns the script
    const before = await calls();
    await a!.set('agent_profile:qa', 'v1');
    const after = await calls();
    const changed = Object.fromEntries(
      [...after].filter(([cmd, n]) => cmd !== 'info' && n !== (before.get(cmd) ?? 0)).map(([cmd, n]) => [cmd, n - (before.get(cmd) ?? 0)]),
    );
    // One command sent (EVALSHA); the SET and the PUBLISH ran inside it, in that order.
    expect(changed).toEqual({ evalsha: 1, set: 1, publish: 1 });
    expect(a!.getMetrics().bus?.publishedByType.set).toBe(2);
    await vi.waitFor(() => {
      expect(b!.getMetrics().bus?.receivedByType.set).toBe(2);
    });
    expect(await b!.get('agent_profile:qa')).toBe('v1');
    raw.disconnect();
  });

  it('propagates invalidate (with remote callbacks), delete and clear, in L2 too', async () => {
    const [a, b] = await sharedCaches(2);
    await a!.mset([
      { key: 'agent_profile:qa:p', value: 1 },
      { key: 'agent_profile:eng:p', value: 2 },
      { key: 'other:1', value: 3 },
    ]);
    expect(await b!.mget(['agent_profile:qa:p', 'agent_profile:eng:p', 'other:1'])).toEqual([1, 2, 3]);
    const events: InvalidationEvent[] = [];
    b!.onInvalidate('agent_profile:*', (e) => {
      events.push(e);
    });
    await a!.invalidate('agent_profile:*');
    await vi.waitFor(
      () => {
        expect(events).toHaveLength(1);
      },
      { timeout: 1000, interval: 2 },
    );
    expect(events[0]).toMatchObject({ pattern: 'agent_profile:*', count: 2, source: 'remote' });
    expect(await b!.get('agent_profile:qa:p')).toBeUndefined();
    expect(await a!.delete('other:1')).toBe(true);
    await vi.waitFor(
      () => {
        expect(b!.getSync('other:1')).toBeUndefined();
      },
      { timeout: 1000, interval: 2 },
    );
    await a!.set('c', 1);
    expect(await b!.get('c')).toBe(1);
    await b!.clear();
    await vi.waitFor(
      () => {
        expect(a!.getSync('c')).toBeUndefined();
      },
      { timeout: 1000, interval: 2 },
    );
    expect(await a!.get('c')).toBeUndefined();
  });

  it('reconnects its tiers when started again after stop()', async () => {
    const [a, b] = await sharedCaches(2);
    await a!.stop();
    await a!.start();
    await a!.set('after-restart', 'still shared');
    expect(await b!.get('after-restart')).toBe('still shared');
    expect(await a!.healthCheck()).toMatchObject({ status: 'healthy', checks: { l2: true, bus: true } });
    await a!.set('after-restart', 'changed');
    await vi.waitFor(
      () => {
        expect(b!.getSync('after-restart')).toBeUndefined();
      },
      { timeout: 1000, interval: 2 },
    );
  });

  it('under the distributed lock, an L1 miss that L2 holds costs one GET and no script; only a real miss locks', async () => {
    const [a, b] = await sharedCaches(2, server!.url, { distributedLock: '2s' });
    const raw = new Redis(server!.url);
    const calls = async () =>
      new Map([...(await raw.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
    const difference = (before: Map<string, number>, after: Map<string, number>) =>
      Object.fromEntries(
        [...after]
          .filter(([cmd, n]) => cmd !== 'info' && n !== (before.get(cmd) ?? 0))
          .map(([cmd, n]) => [cmd, n - (before.get(cmd) ?? 0)]),
      );
    // A lock is released in the background once its value is shared: wait until Redis is quiet.
    const quiet = () =>
      vi.waitFor(async () => {
        const before = await calls();
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(difference(before, await calls())).toEqual({});
      });
    const commandsOf = async (work: () => Promise<unknown>) => {
      await quiet();
      const before = await calls();
      await work();
      await quiet();
      return difference(before, await calls());
    };
    await a!.set('agent_profile:qa', 'shared');
    await a!.getOrCompute('agent_profile:warm', () => 'w'); // Redis learns the scripts
    expect(await commandsOf(() => b!.getOrCompute('agent_profile:qa', () => 'recomputed'))).toEqual({ get: 1 });
    expect(b!.getSync('agent_profile:qa')).toBe('shared');
    // A real miss: the plain GET, then one script that reads again and locks, then one that
    // shares the value and frees the lock (SET, PUBLISH, and a DEL once its token is checked).
    const miss = await commandsOf(() => b!.getOrCompute('agent_profile:new', () => 'computed'));
    expect(miss).toEqual({ get: 3, evalsha: 2, set: 2, publish: 1, del: 1 });
    raw.disconnect();
  });

  it('computes once across processes with the distributed lock', async () => {
    const shared = await sharedCaches(3, server!.url, { distributedLock: '2s' });
    let computations = 0;
    const compute = async () => {
      computations++;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return 'expensive';
    };
    const results = await Promise.all(shared.map((c) => c.getOrCompute('job:1', compute)));
    expect(results).toEqual(['expensive', 'expensive', 'expensive']);
    expect(computations).toBe(1);
  });

  it('releases its lock once the value is shared, and stop() waits for that release', async () => {
    const [a] = await sharedCaches(1, server!.url, { distributedLock: '30s' });
    const store = new RedisStore({ url: server!.url, keyPrefix: `pm-tier-${process.pid}-${counter}:` });
    await store.connect();
    expect(await a!.getOrCompute('job:3', () => 'built')).toBe('built');
    await a!.stop();
    // Free at once, not when the 30 s lease lapses.
    const lease = await store.lock('job:3', 1000);
    expect(lease).toBeDefined();
    await lease!.release();
    await store.close();
  });

  it('frees its lock in the write that shares the value, and never frees a lock that is no longer its own', async () => {
    const [a] = await sharedCaches(1, server!.url, { distributedLock: '30s' });
    const prefix = `pm-tier-${process.pid}-${counter}:`;
    const store = new RedisStore({ url: server!.url, keyPrefix: prefix });
    await store.connect();
    expect(await a!.getOrCompute('job:4', () => 'built')).toBe('built');
    // Free as soon as the value is shared: no release left to send.
    const lease = await store.lock('job:4', 1000);
    expect(lease).toBeDefined();
    await lease!.release();

    // The holder's lock is removed mid-compute and another process takes it: the holder's write
    // must leave that other lock alone.
    const raw = new Redis(server!.url);
    let other: Awaited<ReturnType<RedisStore['lock']>>;
    const value = await a!.getOrCompute('job:5', async () => {
      const lockKeys = await raw.keysBuffer(`${prefix}*lock:job:5`);
      expect(lockKeys).toHaveLength(1);
      await raw.del(lockKeys[0]!);
      other = await store.lock('job:5', 5000);
      return 'built';
    });
    expect(value).toBe('built');
    expect(other!).toBeDefined();
    expect(await other!.renew(5000)).toBe(true);
    await other!.release();
    raw.disconnect();
    await store.close();
  });

  it('is not blocked past the lock TTL by a holder that died', async () => {
    const [a] = await sharedCaches(1, server!.url, { distributedLock: 300 });
    const store = new RedisStore({ url: server!.url, keyPrefix: (a!.getMetrics().l2 && `pm-tier-${process.pid}-${counter}:`)! });
    await store.connect();
    expect(await store.lock('job:2', 300)).toBeDefined(); // taken, never released: its holder "died"
    const started = Date.now();
    expect(await a!.getOrCompute('job:2', () => 'computed anyway')).toBe('computed anyway');
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3000);
    await store.close();
  });
});

describe.runIf(enabled)('when Redis fails', () => {
  it('starts and serves from L1 when Redis is not there, reporting degraded', async () => {
    const [cache] = await sharedCaches(1, `redis://127.0.0.1:${await freePort()}`);
    await cache!.set('k', 'local');
    expect(await cache!.get('k')).toBe('local');
    expect(await cache!.getOrCompute('g', () => 'computed')).toBe('computed');
    const health = await cache!.healthCheck();
    expect(health).toMatchObject({ status: 'degraded', checks: { l2: false, bus: false } });
    expect(cache!.getMetrics().l2!.errors + cache!.getMetrics().l2!.skipped).toBeGreaterThan(0);
  });

  it('bounds every call when Redis hangs (SIGSTOP), then recovers when it answers again', async () => {
    const hung = await RedisProcess.start();
    try {
      const [cache] = await sharedCaches(1, hung.url);
      await cache!.set('before', 1);
      hung.pause();
      const started = Date.now();
      for (let i = 0; i < 5; i++) {
        await cache!.set(`during:${i}`, i);
        expect(await cache!.get(`missing:${i}`)).toBeUndefined();
      }
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(cache!.getMetrics().l2!.available).toBe(false);
      expect((await cache!.healthCheck()).status).toBe('degraded');
      hung.resume();
      await vi.waitFor(
        async () => {
          expect((await cache!.healthCheck()).status).toBe('healthy');
        },
        { timeout: 8000, interval: 100 },
      );
      expect(await cache!.get('before')).toBe(1);
    } finally {
      await hung.stop();
    }
  }, 30_000);

  it('survives kill -9 mid-workload: no caller error, degraded within 2 s, healthy within 5 s, no stale value after', async () => {
    const redis = await RedisProcess.start();
    try {
      const [a, b] = await sharedCaches(2, redis.url);
      await a!.set('x', 'v1');
      expect(await b!.get('x')).toBe('v1'); // b holds v1 in L1
      const errors: unknown[] = [];
      const control = { stop: false };
      const workload = (async () => {
        for (let i = 0; !control.stop; i++) {
          try {
            await a!.set(`w:${i % 20}`, i);
            await b!.get(`w:${(i + 7) % 20}`);
            await b!.getOrCompute(`c:${i % 5}`, () => i);
          } catch (error) {
            errors.push(error);
          }
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await redis.kill9();
      const killedAt = Date.now();
      await vi.waitFor(
        async () => {
          expect((await b!.healthCheck()).status).toBe('degraded');
        },
        { timeout: 2000, interval: 50 },
      );
      const degradedAfter = Date.now() - killedAt;
      await a!.set('x', 'v2'); // b cannot hear about it: the bus is down
      await new Promise((resolve) => setTimeout(resolve, 300));
      await redis.restart();
      const backAt = Date.now();
      await vi.waitFor(
        async () => {
          expect((await a!.healthCheck()).status).toBe('healthy');
          expect((await b!.healthCheck()).status).toBe('healthy');
        },
        { timeout: 5000, interval: 50 },
      );
      const healthyAfter = Date.now() - backAt;
      control.stop = true;
      await workload;
      expect(errors).toEqual([]);
      expect(degradedAfter).toBeLessThan(2000);
      expect(healthyAfter).toBeLessThan(5000);
      expect(b!.getMetrics().bus!.resyncs).toBeGreaterThanOrEqual(1);
      expect(await b!.get('x')).not.toBe('v1');
    } finally {
      await redis.stop();
    }
  }, 30_000);
});

describe.runIf(enabled)('real processes sharing one cache', () => {
  const child = (script: string, ...args: string[]) =>
    run(process.execPath, ['--import', tsx, '--input-type=module', '-e', script, ...args], { cwd: packageDir, timeout: 30_000 });
  const imports = `
    const { SharedPromptCache } = await import(${JSON.stringify(new URL('../shared-prompt-cache.ts', import.meta.url).href)});
    const { RedisStore } = await import(${JSON.stringify(new URL('../stores/redis-store.ts', import.meta.url).href)});
    const { RedisInvalidationBus } = await import(${JSON.stringify(new URL('../bus/redis-bus.ts', import.meta.url).href)});
    const { FileStore } = await import(${JSON.stringify(new URL('../stores/file-store.ts', import.meta.url).href)});
  `;

  it('a write in another process reaches this one through Redis and the bus', async () => {
    const [parent] = await sharedCaches(1);
    const id = `${process.pid}-${counter}`;
    await parent!.set('shared:k', 'from parent');
    expect(parent!.getSync('shared:k')).toBe('from parent');
    const { stdout } = await child(
      `${imports}
      const [url, id] = process.argv.slice(1);
      const cache = new SharedPromptCache({ l2: new RedisStore({ url, keyPrefix: 'pm-tier-' + id + ':' }), bus: new RedisInvalidationBus({ url, channel: 'pm-tier-' + id }) });
      await cache.start();
      const seen = await cache.get('shared:k');
      await cache.set('shared:k', 'from child');
      await cache.stop();
      process.stdout.write(String(seen));
    `,
      server!.url,
      id,
    );
    expect(stdout).toBe('from parent');
    await vi.waitFor(
      () => {
        expect(parent!.getSync('shared:k')).toBeUndefined();
      },
      { timeout: 1000, interval: 2 },
    );
    expect(await parent!.get('shared:k')).toBe('from child');
  });

  it('processes on one host share a FileStore directory', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pm-tier-files-'));
    try {
      const cache = new SharedPromptCache({ l2: new FileStore({ dir }) });
      await cache.start();
      caches.push(cache);
      await child(
        `${imports}
        const cache = new SharedPromptCache({ l2: new FileStore({ dir: process.argv[1] }) });
        await cache.start();
        await cache.set('task_prompt:from-child', { built: 'in another process' }, { ttl: '1h' });
        await cache.stop();
      `,
        dir,
      );
      expect(await cache.get('task_prompt:from-child')).toEqual({ built: 'in another process' });
      expect(cache.getMetrics().l2).toMatchObject({ name: 'file', hits: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('FileStore as L2', () => {
  it('sweeps expired FileStore records on the cleanup timer, without a read', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pm-tier-sweep-'));
    try {
      const store = new FileStore({ dir });
      const cache = new SharedPromptCache({ l2: store, cleanupInterval: 50 });
      await cache.start();
      caches.push(cache);
      await cache.set('short', 'lived', { ttl: 20 });
      await cache.set('long', 'lived', { ttl: '1h' });
      await vi.waitFor(
        async () => {
          expect((await store.stats()).records).toBe(1);
        },
        { timeout: 2000, interval: 20 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
