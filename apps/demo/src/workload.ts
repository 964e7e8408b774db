export const AGENTS = ['engineer', 'qa', 'documentation', 'ops', 'security', 'research'] as const;

const VERBS = ['Implement', 'Review', 'Document', 'Harden', 'Benchmark', 'Investigate'];
const SUBJECTS = [
  'authentication',
  'the billing export',
  'rate limiting',
  'the search index',
  'session storage',
  'audit logging',
  'the CLI',
  'retries',
];

/** The element at `index`, wrapping around; for lists known to be non-empty. */
export function cyclic<T>(list: readonly T[], index: number): T {
  const item = list[index % list.length];
  if (item === undefined) throw new RangeError('cyclic() needs a non-empty list');
  return item;
}

/** A task as the orchestrator receives it. */
export interface DemoTask {
  taskDescription: string;
  requirements: string[];
  deliverables: string[];
  priority: 'low' | 'medium' | 'high';
}

/** `count` distinct tasks, the same ones on every run. */
export function makeTasks(count: number): DemoTask[] {
  return Array.from({ length: count }, (_, i) => ({
    taskDescription: `${cyclic(VERBS, i)} ${cyclic(SUBJECTS, i)} (#${i})`,
    requirements: [`keep the public API of module ${i % 7}`, `cover case ${i} with a test`, 'measure before and after'],
    deliverables: ['a short report', i % 2 === 0 ? 'a patch' : 'a checklist'],
    priority: cyclic(['low', 'medium', 'high'] as const, i),
  }));
}

/**
 * Draws indexes in [0, n) with Zipf-like frequencies (rank r has weight 1/r^s): a few requests
 * repeat a lot, most are rare, as agent delegations do. Deterministic for a given seed.
 */
export function zipfSampler(n: number, s = 1.1, seed = 42): () => number {
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= n; rank++) {
    total += 1 / rank ** s;
    cumulative.push(total);
  }
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    const target = (state / 2 ** 32) * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? total) < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
