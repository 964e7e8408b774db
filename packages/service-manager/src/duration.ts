/** Milliseconds, or a string such as `'500ms'`, `'30s'`, `'15m'`, `'1h'`, `'7d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Parses a {@link Duration} to milliseconds; `Infinity` is allowed. Zero, negative, `NaN` and
 * unparsable values throw the error `fail` makes from a message naming `what`, so each package
 * raises its own error class.
 */
export function parseDuration(value: unknown, what: string, fail: (message: string) => Error): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string' && DURATION_RE.test(value.trim())) {
    const [, amount, unit] = DURATION_RE.exec(value.trim()) as unknown as [string, string, keyof typeof UNIT_MS];
    ms = Number(amount) * UNIT_MS[unit];
  } else {
    throw fail(`${what} must be a positive number of ms or a string like '30s', got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`);
  }
  if (Number.isNaN(ms) || ms <= 0) throw fail(`${what} must be greater than 0, got ${String(value)}`);
  return ms;
}
