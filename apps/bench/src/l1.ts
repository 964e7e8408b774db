/**
 * The L1 hot paths against lru-cache configured for the same job (entry limit, byte limit
 * measured in UTF-8 bytes, TTL), at 1k to 1M entries, keys read in random order.
 */
import { SharedPromptCache } from '@pm/cache-core';
import { LRUCache } from 'lru-cache';
import { compare, consume, randomIndexes, type Measurement } from './harness.js';
import { makePrompt } from './workloads.js';

const TTL_MS = 30 * 60_000;
/** Operations per timed round: short rounds, many of them, so the median shrugs off a noisy neighbour. */
const OPS = 1 << 16;

export interface L1Row {
  size: number;
  path: string;
  lruNs: number;
  oursNs: number;
  ratio: number;
}

const keyOf = (i: number) => `task_prompt:agent-${i % 6}:${i.toString(16).padStart(8, '0')}`;
/** A pool of prompt-sized values (40 to 2000 characters), shared by every key. */
const VALUES = Array.from({ length: 1024 }, (_, i) => makePrompt(i, 40 + ((i * 7919) % 1960)));

function pair(size: number, enableMetrics = true) {
  const lru = new LRUCache<string, string>({
    max: size,
    maxSize: 2 ** 40,
    sizeCalculation: (value) => Buffer.byteLength(value),
    ttl: TTL_MS,
  });
  const ours = new SharedPromptCache({ maxEntries: size, maxMemoryMb: 2 ** 20, defaultTtl: TTL_MS, enableMetrics });
  for (let i = 0; i < size; i++) {
    const key = keyOf(i);
    const value = VALUES[i & 1023]!;
    lru.set(key, value);
    ours.setSync(key, value);
  }
  return { lru, ours };
}

function ratioOf(results: Measurement[]): { lruNs: number; oursNs: number; ratio: number } {
  const [lru, ours] = results;
  return { lruNs: lru!.medianNs, oursNs: ours!.medianNs, ratio: ours!.ratio };
}

/** Every L1 row at one size. */
export async function l1AtSize(size: number, rounds: number): Promise<L1Row[]> {
  const rows: L1Row[] = [];
  const keys = Array.from({ length: size }, (_, i) => keyOf(i));
  const order = randomIndexes(size, OPS, size);
  const { lru, ours } = pair(size);
  const options = { rounds, iterations: OPS, baseline: 'lru-cache' };

  const get = await compare(
    [
      {
        name: 'lru-cache',
        run: (n) => {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += lru.get(keys[order[i]!]!)!.length;
          consume(sum);
        },
      },
      {
        name: '@pm',
        run: (n) => {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += ours.getSync<string>(keys[order[i]!]!)!.length;
          consume(sum);
        },
      },
    ],
    options,
  );
  rows.push({ size, path: 'getSync hit (metrics on)', ...ratioOf(get) });

  const overwrite = await compare(
    [
      {
        name: 'lru-cache',
        run: (n) => {
          for (let i = 0; i < n; i++) lru.set(keys[order[i]!]!, VALUES[i & 1023]);
        },
      },
      {
        name: '@pm',
        run: (n) => {
          for (let i = 0; i < n; i++) ours.setSync(keys[order[i]!]!, VALUES[i & 1023]!);
        },
      },
    ],
    options,
  );
  rows.push({ size, path: 'setSync overwrite', ...ratioOf(overwrite) });

  // New keys into a full cache: every write evicts the least recently used entry. The keys cycle
  // through more keys than the cache holds, so a key comes back only after it was evicted.
  const freshCount = size + OPS;
  const fresh = Array.from({ length: freshCount }, (_, i) => `task_prompt:new:${i}`);
  // A cursor each: the rounds alternate which contender goes first.
  const cursor = { lru: 0, ours: 0 };
  const added = await compare(
    [
      {
        name: 'lru-cache',
        run: (n) => {
          const from = cursor.lru;
          for (let i = 0; i < n; i++) lru.set(fresh[(from + i) % freshCount]!, VALUES[i & 1023]);
          cursor.lru = (from + n) % freshCount;
        },
      },
      {
        name: '@pm',
        run: (n) => {
          const from = cursor.ours;
          for (let i = 0; i < n; i++) ours.setSync(fresh[(from + i) % freshCount]!, VALUES[i & 1023]!);
          cursor.ours = (from + n) % freshCount;
        },
      },
    ],
    options,
  );
  rows.push({ size, path: 'setSync new key (evicts)', ...ratioOf(added) });

  // The regression case: one key rewritten again and again in a namespace holding every entry.
  const hot = 'task_prompt:hot';
  const hotKey = await compare(
    [
      {
        name: 'lru-cache',
        run: (n) => {
          for (let i = 0; i < n; i++) lru.set(hot, VALUES[i & 1023]);
        },
      },
      {
        name: '@pm',
        run: (n) => {
          for (let i = 0; i < n; i++) ours.setSync(hot, VALUES[i & 1023]!);
        },
      },
    ],
    options,
  );
  rows.push({ size, path: 'setSync hot key', ...ratioOf(hotKey) });

  const quiet = pair(size, false);
  const getQuiet = await compare(
    [
      {
        name: 'lru-cache',
        run: (n) => {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += quiet.lru.get(keys[order[i]!]!)!.length;
          consume(sum);
        },
      },
      {
        name: '@pm',
        run: (n) => {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += quiet.ours.getSync<string>(keys[order[i]!]!)!.length;
          consume(sum);
        },
      },
    ],
    options,
  );
  rows.push({ size, path: 'getSync hit (metrics off)', ...ratioOf(getQuiet) });
  return rows;
}

export interface InvalidateRow {
  size: number;
  deleteUs: number;
  namespaceUs: number;
  ratio: number;
  fullScanUs: number;
}

/**
 * `invalidate('ns:*')` removing 100 entries from a cache of `size`, against lru-cache deleting
 * the same 100 keys (the least a caller who knew them could do). Each round refills what it removed.
 */
export async function invalidateAtSize(size: number, rounds: number): Promise<InvalidateRow> {
  const cache = new SharedPromptCache({ maxEntries: size + 100, maxMemoryMb: 2 ** 20, defaultTtl: TTL_MS });
  const lru = new LRUCache<string, string>({ max: size + 100 });
  for (let i = 0; i < size; i++) {
    cache.setSync(keyOf(i), 'v');
    lru.set(keyOf(i), 'v');
  }
  const target = Array.from({ length: 100 }, (_, i) => `agent_profile:${i}`);
  const refill = () => {
    for (const key of target) {
      cache.setSync(key, 'v');
      lru.set(key, 'v');
    }
  };
  const timed = async (operation: () => unknown, count = rounds * 4): Promise<number> => {
    const samples: number[] = [];
    // As many untimed rounds first: until the JIT has compiled both sides, a call costs 5-10× more.
    for (let r = 0; r < count * 2; r++) {
      refill();
      const start = process.hrtime.bigint();
      await operation();
      if (r >= count) samples.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    return samples.sort((a, b) => a - b)[samples.length >> 1]!;
  };
  const deleteUs = await timed(() => {
    for (const key of target) lru.delete(key);
  });
  let removed = 0;
  const namespaceUs = await timed(async () => {
    removed = await cache.invalidate('agent_profile:*');
  });
  if (removed !== 100) throw new Error(`invalidate removed ${removed}, expected 100`);
  // A pattern whose namespace has a wildcard cannot use the index: every key is tested.
  // Up to half a second a call at 1M: fewer samples.
  const fullScanUs = await timed(() => cache.invalidate('agent_prof?le:*'), Math.min(rounds, 11));
  return { size, deleteUs, namespaceUs, ratio: namespaceUs / deleteUs, fullScanUs };
}
