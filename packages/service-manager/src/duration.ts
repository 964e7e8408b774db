/** Milliseconds, or a string such as `'500ms'`, `'30s'`, `'15m'`, `'1h'`, `'7d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * The longest a Node timer can wait: `setTimeout` and `setInterval` treat anything longer as
 * 1 ms (with only a warning), so a '30d' interval would fire a thousand times a second.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DurationBounds {
  /** The value drives a timer: a finite value above {@link MAX_TIMER_MS} is refused. */
  timer?: boolean;
  /** `Infinity` is refused. */
  finite?: boolean;
  /** Largest finite value accepted, and how to say it in the error. */
  max?: { ms: number; label: string };
}

/**
 * Parses a {@link Duration} to milliseconds. Zero, negative, `NaN`, unparsable values and values
 * out of `bounds` throw the error `fail` makes from a message naming `what`, so each package
 * raises its own error class. `Infinity` is allowed unless `bounds.finite`.
 */
export function parseDuration(value: unknown, what: string, fail: (message: string) => Error, bounds: DurationBounds = {}): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string' && DURATION_RE.test(value.trim())) {
    const [, amount, unit] = DURATION_RE.exec(value.trim()) as unknown as [string, string, keyof typeof UNIT_MS];
    ms = Number(amount) * UNIT_MS[unit];
  } else {
    throw fail(
      `${what} must be a positive number of ms or a string like '30s', got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`,
    );
  }
  if (Number.isNaN(ms) || ms <= 0) throw fail(`${what} must be greater than 0, got ${String(value)}`);
  if (ms === Infinity) {
    if (bounds.finite === true) throw fail(`${what} must be finite, got Infinity`);
    return ms;
  }
  if (bounds.timer === true && ms > MAX_TIMER_MS) {
    throw fail(`${what} must be at most ${MAX_TIMER_MS} ms (about 24.8 days), the longest a timer can wait; got ${String(value)}`);
  }
  if (bounds.max !== undefined && ms > bounds.max.ms) throw fail(`${what} must be at most ${bounds.max.label}, got ${String(value)}`);
  return ms;
}
