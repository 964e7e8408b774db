/**
 * Hit ratios of `eviction: 'lru'` and `'tinylfu'` on traces that matter for prompt caches. Each
 * trace is replayed as getOrCompute would: a read, and a write on a miss.
 */
import { SharedPromptCache } from '@pm/cache-core';

const CACHE_ENTRIES = 1000;

/** A seeded uniform [0, 1) generator (mulberry32). */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Ranks drawn from a Zipf distribution of exponent `s` over `universe` keys (by inverse CDF). */
function zipf(universe: number, s: number, seed: number): () => number {
  const cdf = new Float64Array(universe);
  let total = 0;
  for (let k = 0; k < universe; k++) cdf[k] = total += 1 / (k + 1) ** s;
  const next = uniform(seed);
  return () => {
    const target = next() * total;
    let lo = 0;
    let hi = universe - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export interface Trace {
  name: string;
  keys: string[];
}

/** The traces of the hit-ratio table: Zipf at four skews, Zipf polluted by scans, a loop, and a shifting hot set. */
export function traces(length = 400_000): Trace[] {
  const out: Trace[] = [];
  for (const s of [0.6, 0.8, 1.0, 1.2]) {
    const rank = zipf(100_000, s, 7);
    out.push({ name: `Zipf s=${s} (100k keys)`, keys: Array.from({ length }, () => `agent:${rank()}`) });
  }
  // A warm-up or a batch job reading every agent once: 5000 one-off keys after every 40 000 reads.
  const rank = zipf(100_000, 0.9, 11);
  const scanned: string[] = [];
  for (let i = 0, scan = 0; scanned.length < length; i++) {
    if (i > 0 && i % 40_000 === 0) for (let j = 0; j < 5000; j++) scanned.push(`batch:${scan++}`);
    scanned.push(`agent:${rank()}`);
  }
  out.push({ name: 'Zipf s=0.9 + scans of 5000 one-off keys', keys: scanned.slice(0, length) });
  const loop = Math.floor(CACHE_ENTRIES * 1.1);
  out.push({ name: `loop over ${loop} keys (1.1 × the cache)`, keys: Array.from({ length }, (_, i) => `task:${i % loop}`) });
  // Recency wins here: the popular keys change every 50 000 reads (a new project, new agents).
  const shifting = zipf(5000, 1.0, 13);
  out.push({
    name: 'hot set moving every 50 000 reads',
    keys: Array.from({ length }, (_, i) => `p${Math.floor(i / 50_000)}:${shifting()}`),
  });
  return out;
}

/** The share of reads that hit, after the first 10% of the trace (warm-up). */
export function hitRatio(eviction: 'lru' | 'tinylfu', trace: readonly string[]): number {
  const cache = new SharedPromptCache({ maxEntries: CACHE_ENTRIES, maxMemoryMb: 1024, defaultTtl: Infinity, eviction });
  const warm = Math.floor(trace.length / 10);
  let hits = 0;
  for (let i = 0; i < trace.length; i++) {
    const key = trace[i]!;
    if (cache.getSync(key) !== undefined) {
      if (i >= warm) hits++;
    } else cache.setSync(key, 1);
  }
  return hits / (trace.length - warm);
}

export const EVICTION_CACHE_ENTRIES = CACHE_ENTRIES;
