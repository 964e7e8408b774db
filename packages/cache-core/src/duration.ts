import { parseDuration as parseAnyDuration, type Duration } from '@pm/service-manager/contract';
import { CacheConfigError } from './errors.js';

export type { Duration };

/**
 * Parses a {@link Duration} to milliseconds. `Infinity` is allowed (never expires).
 * Zero, negative, `NaN` and unparsable values throw {@link CacheConfigError} naming `what`.
 */
export function parseDuration(value: unknown, what: string): number {
  return parseAnyDuration(value, what, (message) => new CacheConfigError(message));
}
