/**
 * Coherence between processes sharing Redis: tags, soft invalidation, lock leases, and a value
 * too large to cache. Where it matters, the processes are real child processes.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisInvalidationBus } from '../bus/redis-bus.js';
import type { SharedPromptCacheOptions } from '../config.js';
import { SharedPromptCache } from '../shared-prompt-cache.js';
import { RedisStore } from '../stores/redis-store.js';
import { RedisProcess, redisTestsEnabled } from '../testing/redis-server.js';
import type { InvalidationEvent } from '../types.js';

const enabled = await redisTestsEnabled('coherence between processes');
const run = promisify(execFile);
const tsx = createRequire(import.meta.url).resolve('tsx');
const packageDir = fileURLToPath(new URL('../..', import.meta.url));
let redis: RedisProcess;
let counter = 0;
const caches: SharedPromptCache[] = [];
beforeAll(async () => {
  if (enabled) redis = await RedisProcess.start();
}, 30_000);
afterAll(async () => {
  if (enabled) await redis.stop();
});
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

async function shared(count: number, options: SharedPromptCacheOptions = {}): Promise<{ id: string; caches: SharedPromptCache[] }> {
  const id = `${process.pid}-${++counter}`;
  const made: SharedPromptCache[] = [];
  for (let i = 0; i < count; i++) {
    const cache = new SharedPromptCache({
      l2: new RedisStore({ url: redis.url, keyPrefix: `pm-co-${id}:` }),
      bus: new RedisInvalidationBus({ url: redis.url, channel: `pm-co-${id}` }),
      ...options,
    });
    await cache.start();
    made.push(cache);
    caches.push(cache);
  }
  return { id, caches: made };
}

describe.runIf(enabled)('tags across processes', () => {
  it('invalidateTags removes exactly the tagged entries in L1, L2 and every other process, and callbacks see it', async () => {
    const {
      caches: [a, b],
    } = await shared(2);
    await a!.set('agent_profile:qa', 'qa profile', { tags: ['file:/agents/qa.md'] });
    await a!.getOrCompute('task_prompt:qa:1', () => 'qa task', { tags: ['file:/agents/qa.md', 'file:/components/task.md'] });
    await a!.set('task_prompt:eng:1', 'eng task', { tags: ['file:/agents/eng.md', 'file:/components/task.md'] });
    for (const key of ['agent_profile:qa', 'task_prompt:qa:1', 'task_prompt:eng:1']) expect(await b!.get(key)).toBeDefined();
    const events: InvalidationEvent[] = [];
    b!.onInvalidate('task_prompt:*', (event) => {
      events.push(event);
    });
    expect(await a!.invalidateTags(['file:/agents/qa.md'])).toBe(2);
    await vi.waitFor(
      () => {
        expect(events).toHaveLength(1);
      },
      { timeout: 2000, interval: 5 },
    );
    expect(events[0]).toMatchObject({ pattern: '', tags: ['file:/agents/qa.md'], count: 2, source: 'remote' });
    expect([...events[0]!.keys].sort()).toEqual(['agent_profile:qa', 'task_prompt:qa:1']);
    expect(b!.getSync('agent_profile:qa')).toBeUndefined();
    expect(await b!.get('task_prompt:qa:1')).toBeUndefined(); // gone from L2 too
    expect(await b!.get('task_prompt:eng:1')).toBe('eng task'); // untouched
    expect(await a!.invalidateTags(['file:/components/task.md'])).toBe(1);
    await vi.waitFor(
      () => {
        expect(b!.getSync('task_prompt:eng:1')).toBeUndefined();
      },
      { timeout: 2000, interval: 5 },
    );
  });

  it('rejects malformed tags before writing anything', async () => {
    const {
      caches: [a],
    } = await shared(1);
    await expect(a!.set('k', 1, { tags: [''] })).rejects.toThrow(/tags must be an array of non-empty strings/);
    await expect(a!.set('k', 1, { tags: 'file' as never })).rejects.toThrow(/tags must be/);
    expect(await a!.has('k')).toBe(false);
  });
});

describe.runIf(enabled)('soft invalidation', () => {
  it("another process's change marks a copy with a grace window expired, so stale-if-error can still serve it", async () => {
    const {
      caches: [a, b],
    } = await shared(2);
    expect(await b!.getOrCompute('profile:x', () => 'v1', { ttl: '1h', grace: '1h' })).toBe('v1');
    await a!.invalidate('profile:*');
    await vi.waitFor(
      () => {
        expect(b!.getSync('profile:x')).toBeUndefined();
      },
      { timeout: 2000, interval: 5 },
    ); // expired: never served as fresh
    const failing = () => Promise.reject(new Error('the model is down'));
    expect(await b!.getOrCompute('profile:x', failing, { ttl: '1h', grace: '1h' })).toBe('v1'); // but kept for grace
    // A copy without grace is simply dropped.
    await b!.getOrCompute('profile:y', () => 'y1', { ttl: '1h' });
    await a!.invalidate('profile:y');
    await vi.waitFor(
      () => {
        expect(b!.getSync('profile:y')).toBeUndefined();
      },
      { timeout: 2000, interval: 5 },
    );
    await expect(b!.getOrCompute('profile:y', failing, { ttl: '1h', grace: '1h' })).rejects.toThrow('the model is down');
  });
});

describe.runIf(enabled)('distributed single-flight with lock leases', () => {
  it('a 1.5 s compute under a 300 ms lease is done once by three real processes', async () => {
    const id = `${process.pid}-${++counter}`;
    const script = `
      const { SharedPromptCache } = await import(${JSON.stringify(new URL('../shared-prompt-cache.ts', import.meta.url).href)});
      const { RedisStore } = await import(${JSON.stringify(new URL('../stores/redis-store.ts', import.meta.url).href)});
      const { RedisInvalidationBus } = await import(${JSON.stringify(new URL('../bus/redis-bus.ts', import.meta.url).href)});
      const { Redis } = await import('ioredis');
      const [url, id] = process.argv.slice(1);
      const cache = new SharedPromptCache({ l2: new RedisStore({ url, keyPrefix: 'pm-co-' + id + ':' }), bus: new RedisInvalidationBus({ url, channel: 'pm-co-' + id }), distributedLock: 300 });
      await cache.start();
      const counter = new Redis(url);
      const started = Date.now();
      const value = await cache.getOrCompute('expensive', async () => {
        await counter.incr('computes-' + id);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        return 'computed by ' + process.pid;
      });
      process.stdout.write(JSON.stringify({ value, ms: Date.now() - started }));
      counter.disconnect();
      await cache.stop();
    `;
    const outputs = await Promise.all(
      [0, 1, 2].map(() =>
        run(process.execPath, ['--import', tsx, '--input-type=module', '-e', script, redis.url, id], { cwd: packageDir, timeout: 30_000 }),
      ),
    );
    const results = outputs.map((o) => JSON.parse(o.stdout) as { value: string; ms: number });
    const raw = new Redis(redis.url);
    expect(await raw.get(`computes-${id}`)).toBe('1');
    raw.disconnect();
    expect(new Set(results.map((r) => r.value)).size).toBe(1);
  }, 60_000);

  it('a holder that dies stops blocking the others once its lease lapses', async () => {
    const {
      id,
      caches: [a],
    } = await shared(1, { distributedLock: 300 });
    const holder = new RedisStore({ url: redis.url, keyPrefix: `pm-co-${id}:` });
    await holder.connect();
    expect(await holder.lock('job', 300)).toBeDefined(); // taken and never renewed: the holder "died"
    const started = Date.now();
    expect(await a!.getOrCompute('job', () => 'computed anyway')).toBe('computed anyway');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await holder.close();
  });

  it('wakes waiters when the holder fails, instead of leaving them to the lease', async () => {
    const {
      caches: [a, b],
    } = await shared(2, { distributedLock: '10s' });
    let computes = 0;
    const leader = a!.getOrCompute('flaky', async () => {
      computes++;
      await new Promise((resolve) => setTimeout(resolve, 200));
      throw new Error('first attempt fails');
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const follower = b!.getOrCompute('flaky', async () => {
      computes++;
      return 'second attempt';
    });
    await expect(leader).rejects.toThrow('first attempt fails');
    expect(await follower).toBe('second attempt');
    expect(Date.now() - started).toBeLessThan(5000); // not the 10 s lease
    expect(computes).toBe(2);
  });
});

describe.runIf(enabled)('a value too large to cache', () => {
  it('is computed once for 50 concurrent callers and returned to all of them, not cached', async () => {
    const {
      caches: [a],
    } = await shared(1, { maxMemoryMb: 0.01 });
    let computes = 0;
    const big = 'x'.repeat(50_000);
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        a!.getOrCompute('huge', async () => {
          computes++;
          await new Promise((resolve) => setTimeout(resolve, 20));
          return big;
        }),
      ),
    );
    expect(computes).toBe(1);
    expect(results.every((r) => r === big)).toBe(true);
    expect(a!.getMetrics()).toMatchObject({ uncacheable: 1, entryCount: 0 });
  });
});
