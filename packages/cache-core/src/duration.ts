import { CacheConfigError } from './errors.js';

/** Milliseconds, or a string such as `'500ms'`, `'30s'`, `'15m'`, `'1h'`, `'7d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Parses a {@link Duration} to milliseconds. `Infinity` is allowed (never expires).
 * Zero, negative, `NaN` and unparsable values throw {@link CacheConfigError} naming `what`.
 */
export function parseDuration(value: unknown, what: string): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = DURATION_RE.exec(value.trim());
    if (!match) throw new CacheConfigError(`${what} must be a positive number of ms or a string like '30s', got ${JSON.stringify(value)}`);
    ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  } else {
    throw new CacheConfigError(`${what} must be a positive number of ms or a string like '30s', got ${typeof value}`);
  }
  if (Number.isNaN(ms) || ms <= 0) {
    throw new CacheConfigError(`${what} must be greater than 0, got ${String(value)}`);
  }
  return ms;
}
