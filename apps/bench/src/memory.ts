/**
 * Child-process entry (run with --expose-gc): heap per entry of one contender at one size.
 *
 *   memory.ts entries <lru-cache|pm|pm-tinylfu> <size>
 *     structure only: keys and values are held outside the cache too, so only the cache's own
 *     bookkeeping counts; also, with keys and values held by the cache alone, how close the
 *     accounted bytes come to the real growth.
 *   memory.ts budget <strings|objects>
 *     ~400 MB of prompts or profile objects written under a 50 MB budget: does the budget hold?
 */
import { SharedPromptCache } from '@pm/cache-core';
import { LRUCache } from 'lru-cache';
import { makeProfile, makePrompt } from './workloads.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const settle = (): number => {
  for (let i = 0; i < 4; i++) gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
};
const TTL_MS = 30 * 60_000;
const keyOf = (i: number) => `task_prompt:agent-${i % 6}:${i.toString(16).padStart(8, '0')}`;

interface Cache {
  set: (key: string, value: string) => void;
  accounted: () => number;
}

function make(contender: string, size: number): Cache {
  if (contender === 'lru-cache') {
    const lru = new LRUCache<string, string>({ max: size, maxSize: 2 ** 40, sizeCalculation: (v) => Buffer.byteLength(v), ttl: TTL_MS });
    return { set: (k, v) => lru.set(k, v), accounted: () => 0 };
  }
  const eviction = contender === 'pm-tinylfu' ? 'tinylfu' : 'lru';
  const ours = new SharedPromptCache({ maxEntries: size, maxMemoryMb: 2 ** 20, defaultTtl: TTL_MS, eviction });
  return {
    set: (k, v) => {
      ours.setSync(k, v);
    },
    accounted: () => ours.getMetrics().sizeBytes,
  };
}

/** Bytes per entry of `copies` caches of `size` entries each (many small caches make 1k measurable). */
function perEntry(contender: string, size: number, holdOutside: boolean): { bytes: number; accounted: number } {
  const copies = Math.max(1, Math.floor(1_000_000 / size));
  const outside: string[][] = [];
  if (holdOutside)
    for (let c = 0; c < copies; c++) {
      outside.push(Array.from({ length: size }, (_, i) => keyOf(c * size + i)));
      outside.push(Array.from({ length: size }, (_, i) => `value-${c * size + i}`));
    }
  const caches: Cache[] = [];
  const before = settle();
  for (let c = 0; c < copies; c++) {
    const cache = make(contender, size);
    for (let i = 0; i < size; i++) {
      const n = c * size + i;
      if (holdOutside) cache.set(outside[2 * c]![i]!, outside[2 * c + 1]![i]!);
      else cache.set(keyOf(n), `value-${n}`);
    }
    caches.push(cache);
  }
  const grown = settle() - before;
  const accounted = caches.reduce((sum, cache) => sum + cache.accounted(), 0);
  if (caches.length + outside.length < 0) throw new Error('unreachable: keeps both alive until measured');
  return { bytes: grown / (size * copies), accounted: accounted / (size * copies) };
}

function budget(workload: string) {
  const BUDGET_MB = 50;
  const cache = new SharedPromptCache({ maxEntries: 1_000_000, maxMemoryMb: BUDGET_MB, defaultTtl: Infinity });
  const before = settle();
  for (let i = 0, produced = 0; produced < 400 * 1024 * 1024; i++) {
    let value: unknown;
    if (workload === 'strings') {
      // Prompts of 1-8 KB, one in two CJK (two bytes per character in V8, three in UTF-8).
      const cjk = i % 2 === 1;
      value = makePrompt(i, 1024 + ((i * 7919) % 7168), cjk);
      produced += (value as string).length * (cjk ? 2 : 1);
    } else {
      value = makeProfile(i, 200 + (i % 200));
      produced += JSON.stringify(value).length * 2;
    }
    cache.setSync(`w:${i}`, value);
  }
  const metrics = cache.getMetrics();
  return {
    budgetBytes: BUDGET_MB * 1024 * 1024,
    growthBytes: settle() - before,
    accountedBytes: metrics.sizeBytes,
    entries: metrics.entryCount,
    evictions: metrics.evictions,
  };
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'entries') {
  const size = Number(b);
  const structure = perEntry(a!, size, true);
  const owned = perEntry(a!, size, false);
  process.stdout.write(JSON.stringify({ structureBytes: structure.bytes, ownedBytes: owned.bytes, accountedBytes: owned.accounted }));
} else if (mode === 'budget') {
  process.stdout.write(JSON.stringify(budget(a!)));
} else throw new Error('usage: memory.ts entries <contender> <size> | budget <strings|objects>');
