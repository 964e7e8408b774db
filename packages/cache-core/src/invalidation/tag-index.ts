import { CacheConfigError } from '../errors.js';

/** Tags to the keys carrying them in L1, for `invalidateTags()`. */
export class TagIndex {
  readonly #keys = new Map<string, Set<string>>();

  /**
   * Moves `key` from the tags it had to the tags it has. Only the difference is touched: a hot
   * key rewritten with the same tags must not delete and re-add itself in a big Set (V8 keeps
   * deleted slots until a rehash, so every re-add walks further).
   */
  replace(key: string, before: readonly string[] | undefined, after: readonly string[] | undefined): void {
    for (const tag of before ?? []) {
      if (after?.includes(tag) === true) continue;
      const keys = this.#keys.get(tag);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) this.#keys.delete(tag);
    }
    for (const tag of after ?? []) {
      if (before?.includes(tag) === true) continue;
      let keys = this.#keys.get(tag);
      if (keys === undefined) this.#keys.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  /** Whether no key carries a tag: then no entry that leaves needs looking at. */
  get isEmpty(): boolean {
    return this.#keys.size === 0;
  }

  /** Every key carrying any of `tags`. */
  keysWith(tags: readonly string[]): string[] {
    const found = new Set<string>();
    for (const tag of tags) for (const key of this.#keys.get(tag) ?? []) found.add(key);
    return [...found];
  }

  clear(): void {
    this.#keys.clear();
  }
}

/** Validates tags: a list of non-empty strings (without repeats), or undefined for none. */
export function normalizeTags(
  tags: unknown,
  fail: (message: string) => Error = (message) => new CacheConfigError(message),
): readonly string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string' && tag !== ''))
    throw fail('tags must be an array of non-empty strings');
  return tags.length === 0 ? undefined : [...new Set(tags as string[])];
}
