import { parseDuration as parseAnyDuration, type Duration, type DurationBounds } from '@pm/service-manager/contract';
import { CacheConfigError } from './errors.js';

export type { Duration };

/**
 * The longest finite TTL: past it an expiry time stops being an exact number of milliseconds
 * in JavaScript, and Redis refuses it. `Infinity` means never expires.
 */
export const MAX_TTL_MS = 100 * 365 * 86_400_000;

const fail = (message: string) => new CacheConfigError(message);

/**
 * Parses a {@link Duration} to milliseconds. Zero, negative, `NaN`, unparsable and
 * out-of-bounds values throw {@link CacheConfigError} naming `what`.
 */
export function parseDuration(value: unknown, what: string, bounds?: DurationBounds): number {
  return parseAnyDuration(value, what, fail, bounds);
}

/** A TTL or grace window: up to 100 years, or `Infinity` (never expires). */
export function parseTtl(value: unknown, what: string): number {
  return parseAnyDuration(value, what, fail, {
    max: { ms: MAX_TTL_MS, label: '100 years (use Infinity for an entry that never expires)' },
  });
}

/** A duration a timer waits: finite, and at most 2^31-1 ms. */
export function parseTimer(value: unknown, what: string): number {
  return parseAnyDuration(value, what, fail, { timer: true, finite: true });
}
