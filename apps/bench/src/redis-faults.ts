import { SharedPromptCache } from '@pm/cache-core';
import { RedisInvalidationBus, RedisStore } from '@pm/cache-core/redis';
import { RedisProcess } from '@pm/cache-core/testing';

const percentile = (samples: number[], p: number): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nextTick = () => new Promise((resolve) => setImmediate(resolve));

export function sharedCache(
  url: string,
  prefix: string,
  options: ConstructorParameters<typeof SharedPromptCache>[0] = {},
): SharedPromptCache {
  return new SharedPromptCache({
    maxEntries: 10_000,
    l2: new RedisStore({ url, keyPrefix: `${prefix}:`, commandTimeoutMs: 300 }),
    bus: new RedisInvalidationBus({ url, channel: `${prefix}:bus`, commandTimeoutMs: 300 }),
    tierTimeout: 500,
    ...options,
  });
}

export interface CoherenceResult {
  writes: { p50: number; p99: number; max: number };
  invalidations: { p50: number; p99: number; max: number };
  staleReads: number;
}

/**
 * After `set` or `invalidate` resolves in cache A, how long until cache B (its own Redis
 * connections; messages go through Redis pub/sub) no longer serves its old copy.
 */
export async function coherence(url: string, rounds: number): Promise<CoherenceResult> {
  const a = sharedCache(url, 'bench-coherence');
  const b = sharedCache(url, 'bench-coherence');
  await Promise.all([a.start(), b.start()]);
  const writes: number[] = [];
  const invalidations: number[] = [];
  let staleReads = 0;
  try {
    for (let i = 0; i < rounds; i++) {
      const key = `ns${i % 10}:k${i}`;
      await a.set(key, 'old');
      if ((await b.get(key)) !== 'old') throw new Error('B did not read through L2');
      await a.set(key, 'new');
      const written = performance.now();
      while (b.getSync(key) === 'old') await nextTick();
      writes.push(performance.now() - written);
      if ((await b.get(key)) !== 'new') staleReads++;

      await b.get(key);
      await a.invalidate(`ns${i % 10}:*`);
      const invalidated = performance.now();
      while (b.getSync(key) !== undefined) await nextTick();
      invalidations.push(performance.now() - invalidated);
    }
  } finally {
    await Promise.all([a.clear(), a.stop(), b.stop()]);
  }
  const summary = (s: number[]) => ({ p50: percentile(s, 50), p99: percentile(s, 99), max: Math.max(...s) });
  return { writes: summary(writes), invalidations: summary(invalidations), staleReads };
}

export interface OutageResult {
  callerErrors: number;
  operations: number;
  degradedAfterMs: number;
  healthyAfterMs: number;
  staleAfterRecovery: boolean;
}

/** kill -9 of redis-server under a running workload, then a restart (empty, no persistence). */
export async function outage(): Promise<OutageResult> {
  const redis = await RedisProcess.start();
  const a = sharedCache(redis.url, 'bench-outage');
  const b = sharedCache(redis.url, 'bench-outage');
  await Promise.all([a.start(), b.start()]);
  try {
    await a.set('x', 'v1');
    await b.get('x');
    let callerErrors = 0;
    let operations = 0;
    const control = { stop: false };
    const workload = (async () => {
      for (let i = 0; !control.stop; i++) {
        try {
          await a.set(`w:${i % 50}`, i);
          await b.get(`w:${(i + 7) % 50}`);
          await b.getOrCompute(`c:${i % 10}`, () => i);
          operations += 3;
        } catch {
          callerErrors++;
        }
        await sleep(2);
      }
    })();
    await sleep(300);
    await redis.kill9();
    const killed = performance.now();
    while ((await b.healthCheck()).status !== 'degraded') await sleep(10);
    const degradedAfterMs = performance.now() - killed;
    await a.set('x', 'v2'); // B cannot be told: the bus is down
    await sleep(500);
    await redis.restart();
    const back = performance.now();
    while ((await a.healthCheck()).status !== 'healthy' || (await b.healthCheck()).status !== 'healthy') await sleep(10);
    const healthyAfterMs = performance.now() - back;
    control.stop = true;
    await workload;
    return { callerErrors, operations, degradedAfterMs, healthyAfterMs, staleAfterRecovery: (await b.get('x')) === 'v1' };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  }
}
