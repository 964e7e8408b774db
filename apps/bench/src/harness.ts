/** One contender of a comparison: runs `iterations` operations per call. */
export interface Contender {
  name: string;
  run: (iterations: number) => unknown;
}

export interface Measurement {
  name: string;
  /** Median over the rounds, in nanoseconds per operation. */
  medianNs: number;
  /** Median of this contender divided by the baseline's median (lower is faster). */
  ratio: number;
}

export interface CompareOptions {
  rounds: number;
  iterations: number;
  /** Name of the contender the ratios are relative to. */
  baseline: string;
}

/** Defeats dead-code elimination: every contender's results flow in here. */
export let sink: unknown;
export function consume(value: unknown): void {
  sink = value;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs every contender for `rounds` rounds, interleaved (round r starts at contender r), so
 * that noise from a shared, busy machine lands on all of them alike; reports medians.
 */
export async function compare(contenders: readonly Contender[], options: CompareOptions): Promise<Measurement[]> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (const contender of contenders) await contender.run(options.iterations); // warm-up: JIT, caches
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(round + i) % contenders.length]!;
      const start = process.hrtime.bigint();
      await contender.run(options.iterations);
      const elapsed = Number(process.hrtime.bigint() - start);
      samples.get(contender.name)!.push(elapsed / options.iterations);
    }
  }
  const base = median(samples.get(options.baseline) ?? []);
  return contenders.map((c) => {
    const medianNs = median(samples.get(c.name)!);
    return { name: c.name, medianNs, ratio: medianNs / base };
  });
}

/** Times `operation` once per round after `prepare` (untimed); returns the median in ms. */
export async function timeRounds(
  rounds: number,
  prepare: () => unknown,
  operation: () => unknown,
): Promise<{ medianMs: number; samplesMs: number[] }> {
  const samplesMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    await prepare();
    const start = process.hrtime.bigint();
    await operation();
    samplesMs.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { medianMs: median(samplesMs), samplesMs };
}

export function formatNs(ns: number): string {
  return ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`;
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** `count` indexes in [0, n), in a seeded pseudo-random order (the same every run). */
export function randomIndexes(n: number, count: number, seed = 1): Uint32Array {
  const out = new Uint32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    // xorshift32: fast, and good enough to defeat the CPU caches' friendliness to sequential access.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = (state >>> 0) % n;
  }
  return out;
}
