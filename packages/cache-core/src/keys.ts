import { CacheKeyError } from './errors.js';

/** `String.prototype.isWellFormed` (Node 20; TypeScript's lib has it from ES2024). */
interface WellFormedString {
  isWellFormed(): boolean;
}

/** Whether `text` has no unpaired surrogate, so it has a UTF-8 form. */
export function isWellFormed(text: string): boolean {
  return (text as unknown as WellFormedString).isWellFormed();
}

/**
 * Throws {@link CacheKeyError} unless `key` is a non-empty, well-formed Unicode string. A lone
 * surrogate has no UTF-8 form: encoded for L2 it would become U+FFFD, and two different keys
 * would share one record.
 */
export function assertKey(key: unknown): asserts key is string {
  const invalid = keyError(key);
  if (invalid !== undefined) throw invalid;
}

/** Why `key` is not a valid key, or undefined when it is. */
export function keyError(key: unknown): CacheKeyError | undefined {
  if (typeof key !== 'string' || key.length === 0) {
    return new CacheKeyError(`keys are non-empty strings, got ${key === '' ? 'an empty string' : typeof key}`);
  }
  if (isWellFormed(key)) return undefined;
  const at = Array.from(key).findIndex((char) => char.length === 1 && char.charCodeAt(0) >= 0xd800 && char.charCodeAt(0) <= 0xdfff);
  return new CacheKeyError(
    `keys are well-formed Unicode; this one has an unpaired surrogate at character ${at} (${JSON.stringify(key.slice(0, 200))})`,
  );
}
