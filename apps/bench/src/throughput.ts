import { SharedPromptCache } from '@pm/cache-core';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { Cacheable, KeyvCacheableMemory } from 'cacheable';
import { LRUCache } from 'lru-cache';
import { minimatch } from 'minimatch';
import { compare, consume, timeRounds, type Measurement } from './harness.js';
import { makePrompt } from './workloads.js';

const ENTRIES = 1000;
const MAX_BYTES = 100 * 1024 * 1024;
const TTL_MS = 30 * 60_000;

/** Every contender is configured for the same job: 1000 entries, 100 MB, 30 min TTL. */
function contenders() {
  const ours = new SharedPromptCache({ maxEntries: ENTRIES, maxMemoryMb: 100, defaultTtl: TTL_MS });
  const lru = new LRUCache<string, string>({ max: ENTRIES, maxSize: MAX_BYTES, sizeCalculation: (v) => Buffer.byteLength(v), ttl: TTL_MS });
  const bento = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: ENTRIES, maxSize: MAX_BYTES })) },
  });
  const cacheable = new Cacheable({ primary: new KeyvCacheableMemory({ lruSize: ENTRIES, ttl: TTL_MS }), ttl: TTL_MS });
  return { ours, lru, bento, cacheable };
}

const keys = Array.from({ length: ENTRIES }, (_, i) => `task_prompt:agent-${i % 6}:${i.toString(16).padStart(8, '0')}`);
const prompts = keys.map((_, i) => makePrompt(i, 2048));

export interface Suite {
  title: string;
  note: string;
  results: Measurement[];
}

export async function hitPathSuites(rounds: number): Promise<Suite[]> {
  const { ours, lru, bento, cacheable } = contenders();
  for (let i = 0; i < ENTRIES; i++) {
    ours.setSync(keys[i]!, prompts[i]!);
    lru.set(keys[i]!, prompts[i]);
    await bento.set({ key: keys[i]!, value: prompts[i]!, ttl: TTL_MS });
    await cacheable.set(keys[i]!, prompts[i]!, TTL_MS);
  }
  const lruAsync = async (key: string) => lru.get(key);

  const sync = await compare(
    [
      {
        name: 'lru-cache get',
        run: (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += lru.get(keys[i % ENTRIES]!)!.length;
          consume(s);
        },
      },
      {
        name: '@pm getSync',
        run: (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += ours.getSync<string>(keys[i % ENTRIES]!)!.length;
          consume(s);
        },
      },
    ],
    { rounds, iterations: 1_000_000, baseline: 'lru-cache get' },
  );

  const asyncHit = await compare(
    [
      {
        name: 'async lru-cache wrapper',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await lruAsync(keys[i % ENTRIES]!))!.length;
          consume(s);
        },
      },
      {
        name: '@pm get',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await ours.get<string>(keys[i % ENTRIES]!))!.length;
          consume(s);
        },
      },
      {
        name: 'bentocache get (memory)',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await bento.get<string>({ key: keys[i % ENTRIES]! })).length;
          consume(s);
        },
      },
      {
        name: 'cacheable get',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await cacheable.get<string>(keys[i % ENTRIES]!))!.length;
          consume(s);
        },
      },
    ],
    { rounds, iterations: 100_000, baseline: 'async lru-cache wrapper' },
  );

  const never = (): string => {
    throw new Error('a hit must not compute');
  };
  const getOrCompute = await compare(
    [
      {
        name: 'async lru-cache wrapper',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await lruAsync(keys[i % ENTRIES]!))!.length;
          consume(s);
        },
      },
      {
        name: '@pm getOrCompute (hit)',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await ours.getOrCompute(keys[i % ENTRIES]!, never)).length;
          consume(s);
        },
      },
      {
        name: 'bentocache getOrSet (hit)',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await bento.getOrSet({ key: keys[i % ENTRIES]!, factory: never })).length;
          consume(s);
        },
      },
      {
        name: 'cacheable getOrSet (hit)',
        run: async (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await cacheable.getOrSet<string>(keys[i % ENTRIES]!, async () => never()))!.length;
          consume(s);
        },
      },
    ],
    { rounds, iterations: 100_000, baseline: 'async lru-cache wrapper' },
  );

  await bento.disconnectAll();
  return [
    { title: 'L1 hit, synchronous', note: '1000 entries of 2 KB prompts, 1 000 000 gets per round', results: sync },
    { title: 'L1 hit, async', note: '100 000 awaited gets per round', results: asyncHit },
    { title: 'getOrCompute on a hit', note: '100 000 awaited calls per round', results: getOrCompute },
  ];
}

export async function setSuite(rounds: number): Promise<Suite> {
  const { ours, lru } = contenders();
  // 5000 distinct keys into 1000 slots: every write past the first thousand evicts one.
  const writeKeys = Array.from({ length: 5000 }, (_, i) => `task_prompt:w:${i}`);
  const results = await compare(
    [
      {
        name: 'lru-cache set',
        run: (n) => {
          for (let i = 0; i < n; i++) lru.set(writeKeys[i % 5000]!, prompts[i % ENTRIES]);
        },
      },
      {
        name: '@pm setSync',
        run: (n) => {
          for (let i = 0; i < n; i++) ours.setSync(writeKeys[i % 5000]!, prompts[i % ENTRIES]!);
        },
      },
      {
        name: '@pm set (async)',
        run: async (n) => {
          for (let i = 0; i < n; i++) await ours.set(writeKeys[i % 5000]!, prompts[i % ENTRIES]!);
        },
      },
    ],
    { rounds, iterations: 100_000, baseline: 'lru-cache set' },
  );
  return {
    title: 'set throughput (with eviction)',
    note: '2 KB prompts, 5000 keys cycling through 1000 slots, 100 000 writes per round',
    results,
  };
}

export interface InvalidationResult {
  namespaceMs: number;
  fullScanMs: number;
  lruScanMs: number;
  removed: number;
}

/** invalidate('ns3:*') among 100 000 entries in 10 namespaces; each round refills what it removed. */
export async function invalidationSuite(rounds: number): Promise<InvalidationResult> {
  const total = 100_000;
  const cache = new SharedPromptCache({ maxEntries: total, maxMemoryMb: 1024, defaultTtl: Infinity });
  const lru = new LRUCache<string, string>({ max: total });
  const all = Array.from({ length: total }, (_, i) => `ns${i % 10}:prompt:${i}`);
  const fill = () => {
    for (const key of all) {
      if (!cache.getSync(key)) cache.setSync(key, 'value');
      lru.set(key, 'value');
    }
  };
  let removed = 0;
  const namespace = await timeRounds(rounds, fill, async () => {
    removed = await cache.invalidate('ns3:*');
  });
  // A pattern whose namespace part has a wildcard cannot use the index: every key is tested.
  const fullScan = await timeRounds(rounds, fill, () => cache.invalidate('ns?:prompt:*3'));
  // What a user of raw lru-cache would write: scan every key with a minimatch regex.
  const regex = minimatch.makeRe('ns3:*');
  if (regex === false) throw new Error('bad pattern');
  const lruScan = await timeRounds(rounds, fill, () => {
    for (const key of [...lru.keys()]) if (regex.test(key)) lru.delete(key);
  });
  return { namespaceMs: namespace.medianMs, fullScanMs: fullScan.medianMs, lruScanMs: lruScan.medianMs, removed };
}
