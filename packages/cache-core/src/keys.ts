import { CacheKeyError } from './errors.js';

/** Throws {@link CacheKeyError} unless `key` is a non-empty string. */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new CacheKeyError(`keys are non-empty strings, got ${key === '' ? 'an empty string' : typeof key}`);
  }
}
