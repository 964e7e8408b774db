/** The async hit paths against bentocache and cacheable (memory only), 10 000 keys read in random order. */
import { SharedPromptCache } from '@pm/cache-core';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { Cacheable, KeyvCacheableMemory } from 'cacheable';
import { LRUCache } from 'lru-cache';
import { compare, consume, randomIndexes, type Measurement } from './harness.js';
import { makePrompt } from './workloads.js';

const ENTRIES = 10_000;
const TTL_MS = 30 * 60_000;

export async function asyncHits(rounds: number): Promise<{ get: Measurement[]; getOrCompute: Measurement[] }> {
  const keys = Array.from({ length: ENTRIES }, (_, i) => `task_prompt:agent-${i % 6}:${i}`);
  const prompts = keys.map((_, i) => makePrompt(i, 2048));
  const order = randomIndexes(ENTRIES, 1 << 14, 3);
  const ours = new SharedPromptCache({ maxEntries: ENTRIES, maxMemoryMb: 200, defaultTtl: TTL_MS });
  const lru = new LRUCache<string, string>({ max: ENTRIES, ttl: TTL_MS });
  const bento = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: ENTRIES, maxSize: 200 * 1024 * 1024 })) },
  });
  const cacheable = new Cacheable({ primary: new KeyvCacheableMemory({ lruSize: ENTRIES, ttl: TTL_MS }), ttl: TTL_MS });
  for (let i = 0; i < ENTRIES; i++) {
    ours.setSync(keys[i]!, prompts[i]!);
    lru.set(keys[i]!, prompts[i]);
    await bento.set({ key: keys[i]!, value: prompts[i]!, ttl: TTL_MS });
    await cacheable.set(keys[i]!, prompts[i]!, TTL_MS);
  }
  const key = (i: number) => keys[order[i & (order.length - 1)]!]!;
  const lruAsync = async (k: string) => lru.get(k);
  const never = (): string => {
    throw new Error('a hit must not compute');
  };
  const options = { rounds, iterations: 1 << 14, baseline: 'async lru-cache wrapper' };
  const baseline = {
    name: 'async lru-cache wrapper',
    run: async (n: number) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (await lruAsync(key(i)))!.length;
      consume(s);
    },
  };
  const get = await compare(
    [
      baseline,
      {
        name: '@pm get',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await ours.get<string>(key(i)))!.length;
          consume(s);
        },
      },
      {
        name: 'bentocache get (memory)',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await bento.get<string>({ key: key(i) })).length;
          consume(s);
        },
      },
      {
        name: 'cacheable get',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await cacheable.get<string>(key(i)))!.length;
          consume(s);
        },
      },
    ],
    options,
  );
  const getOrCompute = await compare(
    [
      baseline,
      {
        name: '@pm getOrCompute (hit)',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await ours.getOrCompute(key(i), never)).length;
          consume(s);
        },
      },
      {
        name: 'bentocache getOrSet (hit)',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await bento.getOrSet({ key: key(i), factory: never })).length;
          consume(s);
        },
      },
      {
        name: 'cacheable getOrSet (hit)',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await cacheable.getOrSet<string>(key(i), async () => never()))!.length;
          consume(s);
        },
      },
    ],
    options,
  );
  await bento.disconnectAll();
  return { get, getOrCompute };
}
