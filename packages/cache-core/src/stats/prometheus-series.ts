import { Counter, Gauge, type Metric, type Registry } from 'prom-client';

export type Labels = Record<string, string>;
export type Series = [Labels, number][];

/**
 * A counter or gauge whose series are read at scrape time: `collect()` resets it and sets every
 * (labels, value) pair `series()` gives, so the hot path pays nothing for the export.
 */
export function scrapedMetric(
  kind: 'counter' | 'gauge',
  config: { name: string; help: string; labelNames: readonly string[]; registers: Registry[] },
  series: () => Series,
): Metric {
  if (kind === 'counter')
    return new Counter({
      ...config,
      collect() {
        this.reset();
        for (const [labels, value] of series()) this.inc(labels, value);
      },
    });
  return new Gauge({
    ...config,
    collect() {
      this.reset();
      for (const [labels, value] of series()) this.set(labels, value);
    },
  });
}
