import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatNs, table } from './harness.js';
import { hitPathSuites, invalidationSuite, setSuite, type Suite } from './throughput.js';
import { RedisProcess, redisServerAvailable } from '@pm/cache-core/testing';
import { coherence, outage, redisThroughput } from './redis.js';
import { watchLatency } from './watch-latency.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const SECTIONS = ['hit', 'set', 'invalidate', 'memory', 'watch', 'redis'] as const;
const requested = process.argv.slice(2).filter((arg) => arg !== '--');
const unknown = requested.filter((arg) => !(SECTIONS as readonly string[]).includes(arg));
if (unknown.length > 0) {
  console.error(`unknown section(s) ${unknown.join(', ')}; choose from ${SECTIONS.join(', ')} (none means all)`);
  process.exit(2);
}
const selected = (section: (typeof SECTIONS)[number]) => requested.length === 0 || requested.includes(section);

function suiteTable(suite: Suite): string {
  return [
    `### ${suite.title}`,
    '',
    `${suite.note}; median of ${ROUNDS} interleaved rounds.`,
    '',
    table(
      ['contender', 'median per op', 'ratio to baseline'],
      suite.results.map((r) => [r.name, formatNs(r.medianNs), `${r.ratio.toFixed(2)}×`]),
    ),
  ].join('\n');
}

interface MemoryResult {
  workload: string;
  budgetBytes: number;
  growthBytes: number;
  accountedBytes: number;
  entries: number;
  evictions: number;
  jsonBytesPerEntry?: number;
}

function memoryRun(workload: string): MemoryResult {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const script = fileURLToPath(new URL('./memory.ts', import.meta.url));
  // A fresh process per workload, so one's garbage never counts against the other.
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', '--import', tsx, script, workload], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as MemoryResult;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

console.log(`# @pm/cache-core benchmarks\n`);
console.log(
  `Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, ${new Date().toISOString().slice(0, 10)}\n`,
);
if (selected('hit')) for (const suite of await hitPathSuites(ROUNDS)) console.log(`${suiteTable(suite)}\n`);
if (selected('set')) console.log(`${suiteTable(await setSuite(ROUNDS))}\n`);

if (selected('invalidate')) {
  const inv = await invalidationSuite(ROUNDS);
  console.log(`### invalidate among 100 000 entries in 10 namespaces\n`);
  console.log(`${inv.removed} entries removed per round; median of ${ROUNDS} rounds.\n`);
  console.log(
    table(
      ['operation', 'median'],
      [
        ["@pm invalidate('ns3:*') (namespace index)", `${inv.namespaceMs.toFixed(2)} ms`],
        ["@pm invalidate('ns?:prompt:*3') (full scan)", `${inv.fullScanMs.toFixed(2)} ms`],
        ['lru-cache + minimatch scan of every key', `${inv.lruScanMs.toFixed(2)} ms`],
      ],
    ),
  );
  console.log();
}

if (selected('memory')) {
  console.log(`### real memory with maxMemoryMb: 50, ~400 MB written\n`);
  const rows = ['strings', 'objects'].map((w) => {
    const r = memoryRun(w);
    return [
      w,
      mb(r.growthBytes),
      `${(r.growthBytes / r.budgetBytes).toFixed(2)}×`,
      mb(r.accountedBytes),
      String(r.entries),
      String(r.evictions),
    ];
  });
  console.log(table(['workload', 'heap + external growth', 'growth / budget', 'accounted', 'entries', 'evictions'], rows));
}

if (selected('watch')) {
  const edits = 100;
  const latency = await watchLatency(edits);
  console.log(`\n### watch(): profile edit to fresh profile\n`);
  console.log(`${edits} edits of a cached profile with watch() on; time until loadAgentProfile returns the new version.\n`);
  console.log(
    table(['p50', 'p95', 'max'], [[`${latency.p50.toFixed(2)} ms`, `${latency.p95.toFixed(2)} ms`, `${latency.max.toFixed(2)} ms`]]),
  );
}

if (selected('redis')) {
  if (!(await redisServerAvailable())) {
    console.log('\n### Redis\n\nSKIPPED: redis-server is not installed (apt-get install -y redis-server).');
  } else {
    const redis = await RedisProcess.start();
    try {
      const ms = (v: number) => `${v.toFixed(2)} ms`;
      const c = await coherence(redis.url, 300);
      console.log(`\n### coherence between two caches sharing Redis\n`);
      console.log(
        '300 rounds. After `set` / `invalidate` resolves in A, time until B no longer serves its L1 copy (B then reads the new value from L2).\n',
      );
      console.log(
        table(
          ['after', 'p50', 'p99', 'max'],
          [
            ['set', ms(c.writes.p50), ms(c.writes.p99), ms(c.writes.max)],
            ['invalidate', ms(c.invalidations.p50), ms(c.invalidations.p99), ms(c.invalidations.max)],
          ],
        ),
      );
      console.log(`\nstale reads after the copy was dropped: ${c.staleReads}`);
      const t = await redisThroughput(redis.url, ROUNDS);
      console.log(`\n### mget of 100 keys\n\n2 KB prompts; per 100 keys; median of ${ROUNDS} interleaved rounds.\n`);
      console.log(
        table(
          ['contender', 'median per 100 keys', 'ratio'],
          t.mget.map((r) => [r.name, formatNs(r.medianNs), `${r.ratio.toFixed(2)}×`]),
        ),
      );
      console.log(
        `\n### tiered get: L1 miss, L2 hit\n\n1000 keys of 2 KB prompts cycled so L1 never holds the key; median of ${ROUNDS} interleaved rounds.\n`,
      );
      console.log(
        table(
          ['contender', 'median per get', 'ratio to @pm'],
          t.tiered.map((r) => [r.name, formatNs(r.medianNs), `${r.ratio.toFixed(2)}×`]),
        ),
      );
    } finally {
      await redis.stop();
    }
    const o = await outage();
    console.log(`\n### kill -9 of redis-server mid-workload\n`);
    console.log(
      table(
        ['caller errors', 'operations', 'degraded after kill', 'healthy after restart', 'stale value served after'],
        [
          [
            String(o.callerErrors),
            String(o.operations),
            ms2(o.degradedAfterMs),
            ms2(o.healthyAfterMs),
            o.staleAfterRecovery ? 'yes' : 'no',
          ],
        ],
      ),
    );
  }
}

function ms2(v: number): string {
  return `${v.toFixed(0)} ms`;
}
