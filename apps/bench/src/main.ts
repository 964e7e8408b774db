/**
 * `pnpm bench [section...]`: every figure of BENCHMARKS.md, printed as Markdown. Sections:
 * l1, invalidate, memory, eviction, peers, file, watch, redis (none means all).
 * BENCH_ROUNDS (default 21) sets the rounds per comparison; BENCH_SIZES (default
 * 1000,10000,100000,1000000) the cache sizes of the L1 sections; BENCH_PROCESSES (default 3)
 * how many fresh processes each L1 figure is the median of.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { RedisProcess, redisServerAvailable } from '@pm/cache-core/testing';
import { EVICTION_CACHE_ENTRIES, hitRatio, traces } from './eviction.js';
import { fileWrites } from './file.js';
import { formatNs, table, type Measurement } from './harness.js';
import type { InvalidateRow, L1Row } from './l1.js';
import { asyncHits } from './peers.js';
import { coherence, outage } from './redis-faults.js';
import { coldKey, zipfThroughput } from './redis-multi.js';
import { ONE_MGET, promptDecoding, SHARED_SET, TIERED_GET, type RedisPaths } from './redis-paths.js';
import { watchLatency } from './watch-latency.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000,1000000').split(',').map(Number);
const SECTIONS = ['l1', 'invalidate', 'memory', 'eviction', 'peers', 'file', 'watch', 'redis'] as const;
const requested = process.argv.slice(2).filter((arg) => arg !== '--');
const unknown = requested.filter((arg) => !(SECTIONS as readonly string[]).includes(arg));
if (unknown.length > 0) {
  console.error(`unknown section(s) ${unknown.join(', ')}; choose from ${SECTIONS.join(', ')} (none means all)`);
  process.exit(2);
}
const selected = (section: (typeof SECTIONS)[number]) => requested.length === 0 || requested.includes(section);
const x = (ratio: number) => `${ratio.toFixed(2)}×`;
const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const us = (value: number) => `${value.toFixed(1)} µs`;
const sizeLabel = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);

function section(title: string, note: string, body: string): void {
  console.log(`### ${title}\n\n${note}\n\n${body}\n`);
}

function comparison(results: Measurement[]): string {
  return table(
    ['contender', 'median per op', 'ratio'],
    results.map((r) => [r.name, formatNs(r.medianNs), x(r.ratio)]),
  );
}

/** Runs a bench script in a fresh process (one measurement's garbage and JIT state never count against another's). */
function inChild<T>(script: string, ...args: string[]): T {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const file = fileURLToPath(new URL(script, import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', '--import', tsx, file, ...args], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as T;
}
const childMemory = (...args: string[]) => inChild<Record<string, number>>('./memory.ts', ...args);
/** How many processes each L1 figure is the median of. */
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 3);
const middle = <T>(runs: T[], by: (run: T) => number): T => [...runs].sort((a, b) => by(a) - by(b))[runs.length >> 1]!;

console.log(`# @pm/cache-core benchmarks\n`);
console.log(
  `Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, ${new Date().toISOString().slice(0, 10)}; ` +
    `${ROUNDS} interleaved rounds per comparison, medians.\n`,
);

if (selected('l1')) {
  const rows: L1Row[] = [];
  for (const size of SIZES) {
    const runs = Array.from({ length: PROCESSES }, () => inChild<L1Row[]>('./child.ts', 'l1', String(size), String(ROUNDS)));
    // Per path, the run with the median ratio.
    for (const [i, row] of runs[0]!.entries())
      rows.push(
        middle(
          runs.map((run) => run[i] ?? row),
          (r) => r.ratio,
        ),
      );
  }
  section(
    'L1 against lru-cache, 1k to 1M entries',
    'lru-cache configured for the same job (max, maxSize counted in UTF-8 bytes, ttl); keys read and written in random order; values 40 B to 2 KB prompts. Ratio = @pm / lru-cache.',
    table(
      ['entries', 'path', 'lru-cache', '@pm', 'ratio'],
      rows.map((r) => [sizeLabel(r.size), r.path, formatNs(r.lruNs), formatNs(r.oursNs), x(r.ratio)]),
    ),
  );
}

if (selected('invalidate')) {
  const rows: InvalidateRow[] = [];
  for (const size of SIZES) {
    const runs = Array.from({ length: PROCESSES }, () => inChild<InvalidateRow>('./child.ts', 'invalidate', String(size), String(ROUNDS)));
    rows.push(middle(runs, (r) => r.ratio));
  }
  section(
    "invalidate('ns:*') removing 100 entries",
    "The cache holds `entries` keys of another namespace plus the 100. Baseline: lru-cache deleting the same 100 keys by name. 'full scan': a pattern whose namespace has a wildcard tests every key.",
    table(
      ['entries', 'lru-cache delete × 100', "@pm invalidate('agent_profile:*')", 'ratio', "@pm invalidate('agent_prof?le:*') (full scan)"],
      rows.map((r) => [sizeLabel(r.size), us(r.deleteUs), us(r.namespaceUs), x(r.ratio), us(r.fullScanUs)]),
    ),
  );
}

if (selected('memory')) {
  const rows = [];
  for (const size of SIZES) {
    const lru = childMemory('entries', 'lru-cache', String(size));
    const pm = childMemory('entries', 'pm', String(size));
    const tiny = childMemory('entries', 'pm-tinylfu', String(size));
    rows.push([
      sizeLabel(size),
      `${lru.structureBytes!.toFixed(0)} B`,
      `${pm.structureBytes!.toFixed(0)} B`,
      x(pm.structureBytes! / lru.structureBytes!),
      `${tiny.structureBytes!.toFixed(0)} B`,
      `${pm.ownedBytes!.toFixed(0)} B`,
      `${pm.accountedBytes!.toFixed(0)} B`,
      `${(((pm.accountedBytes! - pm.ownedBytes!) / pm.ownedBytes!) * 100).toFixed(1)}%`,
    ]);
  }
  section(
    'heap per entry, small values',
    'Each figure from a fresh process (`--expose-gc`), heap + external growth divided by entries; at 1k, 1000 caches of 1k. Structure: keys and values are also held outside the cache, so only the cache\'s bookkeeping counts. Owned: the cache holds the only copy of keys (~31 B) and values (~12 B); "accounted" is what `getMetrics().sizeBytes` says per entry.',
    table(
      [
        'entries',
        'lru-cache (structure)',
        '@pm (structure)',
        'ratio',
        '@pm tinylfu (structure)',
        '@pm owned, real',
        '@pm accounted',
        'accounted vs real',
      ],
      rows,
    ),
  );
  const budgets = ['strings', 'objects'].map((w) => {
    const r = childMemory('budget', w);
    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
    return [w, mb(r.growthBytes!), x(r.growthBytes! / r.budgetBytes!), mb(r.accountedBytes!), String(r.entries), String(r.evictions)];
  });
  section(
    'real memory under a 50 MB budget, ~400 MB written',
    'strings: prompts of 1-8 KB, one in two CJK; objects: profile-like objects of 200-400 fields parsed from JSON.',
    table(['workload', 'heap + external growth', 'growth / budget', 'accounted', 'entries', 'evictions'], budgets),
  );
}

if (selected('eviction')) {
  const rows = traces().map((trace) => {
    const lru = hitRatio('lru', trace.keys);
    const tiny = hitRatio('tinylfu', trace.keys);
    return [trace.name, pct(lru), pct(tiny), `${((tiny - lru) * 100).toFixed(1)} points`];
  });
  section(
    "hit ratio: eviction 'lru' against 'tinylfu'",
    `${EVICTION_CACHE_ENTRIES} entries; 400 000 reads per trace, a write on each miss (as getOrCompute does); the first 10% warm the cache and are not counted.`,
    table(['trace', 'lru', 'tinylfu', 'difference'], rows),
  );
}

if (selected('peers')) {
  const { get, getOrCompute } = await asyncHits(ROUNDS);
  section('async get on a hit', '10 000 entries of 2 KB prompts, read in random order, memory only.', comparison(get));
  section('getOrCompute on a hit', 'Same cache; bentocache getOrSet and cacheable getOrSet for the same job.', comparison(getOrCompute));
}

if (selected('file')) {
  // The disk is the case that counts; memory (tmpfs) shows the store's own overhead unmasked.
  const places = [
    { label: `disk (${os.tmpdir()})`, dir: os.tmpdir() },
    ...(existsSync('/dev/shm') ? [{ label: 'tmpfs (/dev/shm)', dir: '/dev/shm' }] : []),
  ];
  for (const { label, dir } of places)
    section(
      `FileStore.set against a bare atomic write: ${label}`,
      '2 KB prompts over 256 keys, the same sharded layout; the bare write: open a temp file, write, close, rename ' +
        '(callback fs). The two take turns op by op, each op timed alone; median over rounds of 256 ops.',
      comparison(await fileWrites(ROUNDS, dir)),
    );
}

if (selected('watch')) {
  const edits = 100;
  const latency = await watchLatency(edits);
  section(
    'watch(): profile edit to fresh profile',
    `${edits} edits of a cached profile with watch() on; time until loadAgentProfile returns the new version.`,
    table(['p50', 'p95', 'max'], [[`${latency.p50.toFixed(2)} ms`, `${latency.p95.toFixed(2)} ms`, `${latency.max.toFixed(2)} ms`]]),
  );
}

if (selected('redis')) {
  if (!(await redisServerAvailable())) {
    console.log('### Redis\n\nSKIPPED: redis-server is not installed (apt-get install -y redis-server).\n');
  } else {
    const redis = await RedisProcess.start();
    try {
      // As the L1 rows: each run in a fresh process, the run with the median ratio of ours.
      const runs = Array.from({ length: PROCESSES }, () => inChild<RedisPaths>('./child.ts', 'redis-paths', redis.url, String(ROUNDS)));
      const median = (path: keyof RedisPaths, ours: string) => middle(runs, (run) => run[path].find((m) => m.name === ours)!.ratio)[path];
      const fresh = `Median of ${PROCESSES} fresh processes (the one with the median ratio of ours is shown).`;
      section(
        'shared set: L1 + L2 + bus',
        `2 KB prompts over 1000 keys on a local redis-server; the raw SET writes the same bytes our record has. ${fresh}`,
        comparison(median('shared', SHARED_SET)),
      );
      section(
        'tiered get: L1 miss, L2 hit',
        `1000 keys of 2 KB prompts cycled through a one-entry L1. ${fresh}`,
        comparison(median('tiered', TIERED_GET)),
      );
      section('mget of 100 keys', `2 KB prompts; per 100 keys. ${fresh}`, comparison(median('mget', ONE_MGET)));
      const decoding = await promptDecoding(redis.url, ROUNDS);
      section(
        'reading a prompt back',
        'RedisStore.get (GET, then decode) against a raw GET of the same record. Records from 8 KiB are deflated by default: ten times less Redis memory for prompts, for an inflate on each L2 read.',
        table(
          ['payload', 'record', 'raw GET', 'RedisStore.get', 'decode cost'],
          decoding.map((r) => [r.payload, `${r.recordBytes} B`, us(r.rawUs), us(r.oursUs), us(r.oursUs - r.rawUs)]),
        ),
      );
      const cold = await coldKey(redis.url, 4, 5);
      section(
        'four processes, one cold key',
        `${cold.rounds} rounds; each process calls getOrCompute on the same missing key at once; the compute takes ${cold.computeMs} ms and counts itself in Redis.`,
        table(['computes per round', 'slowest process / compute time (median)'], [[cold.computes.join(', '), x(cold.slowestOverCompute)]]),
      );
      const zipf = await zipfThroughput(redis.url, [1, 2, 4], 5);
      section(
        'Zipf mix on Redis, 1 to 4 processes, at saturation',
        '32 concurrent callers per process for 5 s; 10 000 agents, Zipf s = 1; 90% get-or-compute, 10% writes of a new value (announced on the bus). bentocache: memory L1 + Redis L2 + Redis bus (its single flight is per process). @pm by default also locks each miss across processes (one compute in the whole system: a lock round trip per miss); `distributedLock: false` is the same job as bentocache.',
        table(
          [
            'processes',
            '@pm ops/s (default)',
            '@pm ops/s (distributedLock: false)',
            'bentocache ops/s',
            'ratio (default)',
            'ratio (no lock)',
          ],
          zipf.map((r) => [
            String(r.processes),
            r.pmOpsPerSecond.toFixed(0),
            r.pmNoLockOpsPerSecond.toFixed(0),
            r.bentoOpsPerSecond.toFixed(0),
            x(r.ratio),
            x(r.noLockRatio),
          ]),
        ),
      );
      const c = await coherence(redis.url, 300);
      const ms = (v: number) => `${v.toFixed(2)} ms`;
      section(
        'coherence between two caches sharing Redis',
        '300 rounds. After `set` / `invalidate` resolves in A, time until B no longer serves its L1 copy.',
        table(
          ['after', 'p50', 'p99', 'max'],
          [
            ['set', ms(c.writes.p50), ms(c.writes.p99), ms(c.writes.max)],
            ['invalidate', ms(c.invalidations.p50), ms(c.invalidations.p99), ms(c.invalidations.max)],
          ],
        ) + `\n\nstale reads after the copy was dropped: ${c.staleReads}`,
      );
    } finally {
      await redis.stop();
    }
    const o = await outage();
    section(
      'kill -9 of redis-server mid-workload',
      'Two caches under a write/read/getOrCompute workload; Redis killed, then restarted empty.',
      table(
        ['caller errors', 'operations', 'degraded after kill', 'healthy after restart', 'stale value served after'],
        [
          [
            String(o.callerErrors),
            String(o.operations),
            `${o.degradedAfterMs.toFixed(0)} ms`,
            `${o.healthyAfterMs.toFixed(0)} ms`,
            o.staleAfterRecovery ? 'yes' : 'no',
          ],
        ],
      ),
    );
  }
}
