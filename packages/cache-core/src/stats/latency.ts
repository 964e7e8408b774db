/**
 * Bucket bounds of every latency histogram, in seconds: from 1 µs (an L1 hit) to 1 s (an L2 call
 * timing out), so one set of buckets resolves both tiers.
 */
export const LATENCY_BUCKETS_SECONDS = [
  0.000_001, 0.000_002_5, 0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
  0.1, 0.25, 0.5, 1,
] as const;

/** Counts of observations per bucket (not cumulative; the exporter sums them), their sum and count. */
export class LatencyHistogram {
  readonly counts = new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_SECONDS.length && seconds > (LATENCY_BUCKETS_SECONDS[i] ?? Infinity)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += seconds;
    this.count++;
  }
}

export type LatencyTier = 'l1' | 'l2';
export type LatencyOperation = 'get' | 'set';

/**
 * Get and set latency per tier. L2 calls are all timed (they cost ~100 µs; two clock reads are
 * noise). L1 calls cost ~100 ns, as much as reading the clock twice, so they are sampled: the
 * first read of each millisecond (see L1Cache.readValue) and one write in {@link L1_SAMPLE_EVERY}.
 */
export class Latencies {
  readonly #histograms = new Map<string, LatencyHistogram>();

  observe(tier: LatencyTier, operation: LatencyOperation, seconds: number): void {
    const name = `${tier}:${operation}`;
    let histogram = this.#histograms.get(name);
    if (histogram === undefined) this.#histograms.set(name, (histogram = new LatencyHistogram()));
    histogram.observe(seconds);
  }

  /** Every histogram observed so far, with its labels. */
  *entries(): Generator<{ tier: LatencyTier; operation: LatencyOperation; histogram: LatencyHistogram }> {
    for (const [name, histogram] of this.#histograms) {
      const [tier, operation] = name.split(':') as [LatencyTier, LatencyOperation];
      yield { tier, operation, histogram };
    }
  }
}

/** One L1 write in this many is timed. */
export const L1_SAMPLE_EVERY = 256;
