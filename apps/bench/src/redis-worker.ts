/**
 * Child-process entry for the multi-process Redis benchmarks; prints one JSON line.
 *
 *   redis-worker.ts cold <url> <prefix> <key> <computeMs>
 *     waits for "go" on <prefix>:go, then getOrCompute(key) with a compute of computeMs that
 *     counts itself in Redis; prints how long its call took.
 *   redis-worker.ts zipf <url> <prefix> <pm|pm-nolock|bentocache> <seconds> <seed>
 *     a closed loop of 32 concurrent callers on Zipf-distributed keys (10 000 agents, s = 1):
 *     90% get-or-compute, 10% writes of a new value (announced to the other processes).
 */
import { SharedPromptCache } from '@pm/cache-core';
import { RedisInvalidationBus, RedisStore } from '@pm/cache-core/redis';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { makePrompt } from './workloads.js';

const [mode, url, prefix, ...rest] = process.argv.slice(2) as [string, string, string, ...string[]];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function ours(distributedLock = true): SharedPromptCache {
  return new SharedPromptCache({
    ...(distributedLock ? {} : { distributedLock: false }),
    maxEntries: 10_000,
    l2: new RedisStore({ url, keyPrefix: `${prefix}:` }),
    bus: new RedisInvalidationBus({ url, channel: `${prefix}:bus` }),
  });
}

async function cold([key, computeMs]: string[]): Promise<unknown> {
  const cache = ours();
  await cache.start();
  const redis = new Redis(url);
  const sub = new Redis(url);
  await sub.subscribe(`${prefix}:go`);
  process.stdout.write('ready\n');
  await new Promise((resolve) => sub.once('message', resolve));
  const start = performance.now();
  await cache.getOrCompute(key!, async () => {
    await redis.incr(`${prefix}:computes`);
    await sleep(Number(computeMs));
    return makePrompt(1, 2048);
  });
  const ms = performance.now() - start;
  await Promise.all([cache.stop(), redis.quit(), sub.quit()]);
  return { ms };
}

/** Zipf ranks over 10 000 keys by inverse CDF, seeded. */
function zipfRanks(seed: number): () => number {
  const cdf = new Float64Array(10_000);
  let total = 0;
  for (let k = 0; k < cdf.length; k++) cdf[k] = total += 1 / (k + 1);
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const target = ((state >>> 0) / 2 ** 32) * total;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

async function zipf([contender, seconds, seed]: string[]): Promise<unknown> {
  const prompts = Array.from({ length: 64 }, (_, i) => makePrompt(i, 2048));
  let api: { getOrCompute: (key: string, make: () => string) => Promise<unknown>; set: (key: string, v: string) => Promise<unknown> };
  let close: () => Promise<unknown>;
  if (contender === 'pm' || contender === 'pm-nolock') {
    const cache = ours(contender === 'pm');
    await cache.start();
    api = { getOrCompute: (key, make) => cache.getOrCompute(key, make), set: (key, v) => cache.set(key, v) };
    close = () => cache.stop();
  } else {
    const connection = { host: new URL(url).hostname, port: Number(new URL(url).port) };
    const bento = new BentoCache({
      default: 'shared',
      stores: {
        shared: bentostore()
          .useL1Layer(memoryDriver({ maxItems: 10_000 }))
          .useL2Layer(redisDriver({ connection, prefix }))
          .useBus(redisBusDriver({ connection })),
      },
    });
    api = {
      getOrCompute: (key, make) => bento.getOrSet({ key, factory: make, ttl: '30m' }),
      set: (key, v) => bento.set({ key, value: v, ttl: '30m' }),
    };
    close = () => bento.disconnectAll();
  }
  const rank = zipfRanks(Number(seed));
  const deadline = performance.now() + Number(seconds) * 1000;
  let operations = 0;
  const caller = async () => {
    while (performance.now() < deadline) {
      const r = rank();
      const key = `agent:${r}`;
      if (operations % 10 === 9) await api.set(key, prompts[(operations + r) % 64]!);
      else await api.getOrCompute(key, () => prompts[r % 64]!);
      operations++;
    }
  };
  process.stdout.write('ready\n');
  await Promise.all(Array.from({ length: 32 }, caller));
  await close();
  return { operations, seconds: Number(seconds) };
}

const result = mode === 'cold' ? await cold(rest) : await zipf(rest);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
