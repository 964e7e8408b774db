/**
 * Child-process entry (run with --expose-gc): fills a cache with ~400 MB of values under a
 * 50 MB budget and prints, as JSON, how much the heap really grew.
 */
import { SharedPromptCache } from '@pm/cache-core';
import { makeProfile, makePrompt } from './workloads.js';

const BUDGET_MB = 50;
const FILL_BYTES = 400 * 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function settle(): number {
  for (let i = 0; i < 4; i++) gc!();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

const workload = process.argv[2];
const cache = new SharedPromptCache({ maxEntries: 1_000_000, maxMemoryMb: BUDGET_MB, defaultTtl: Infinity });
const before = settle();
let produced = 0;
let jsonBytes = 0;
for (let i = 0; produced < FILL_BYTES; i++) {
  let value: unknown;
  if (workload === 'strings') {
    // Prompts of 1-8 KB, one in two CJK (two bytes per character in V8, three in UTF-8).
    const cjk = i % 2 === 1;
    value = makePrompt(i, 1024 + ((i * 7919) % 7168), cjk);
    produced += (value as string).length * (cjk ? 2 : 1);
  } else if (workload === 'objects') {
    value = makeProfile(i, 200 + (i % 200));
    const length = JSON.stringify(value).length;
    jsonBytes += length;
    produced += length * 2;
  } else {
    throw new Error(`unknown workload ${String(workload)}; use strings or objects`);
  }
  cache.setSync(`w:${i}`, value);
}
const after = settle();
const metrics = cache.getMetrics();
process.stdout.write(
  JSON.stringify({
    workload,
    budgetBytes: BUDGET_MB * 1024 * 1024,
    growthBytes: after - before,
    accountedBytes: metrics.sizeBytes,
    entries: metrics.entryCount,
    evictions: metrics.evictions,
    jsonBytesPerEntry: workload === 'objects' ? jsonBytes / (metrics.entryCount + metrics.evictions) : undefined,
  }),
);
