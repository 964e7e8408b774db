import { CacheConfigError } from './errors.js';
import { assertKey } from './keys.js';
import { compilePattern, escapePattern } from './invalidation/pattern.js';
import type { SharedPromptCache } from './shared-prompt-cache.js';
import type { GetOrComputeOptions, InvalidationCallback, MsetEntry, SetOptions } from './types.js';

/**
 * A view of a {@link SharedPromptCache} whose keys are prefixed `name:`. Entries live in the
 * parent cache, so they share its limits, metrics and invalidation, and pick up the TTL the
 * parent's `namespaces` option gives this namespace.
 */
export class NamespacedCache {
  readonly #cache: SharedPromptCache;
  readonly #prefix: string;
  readonly #escapedPrefix: string;

  constructor(
    cache: SharedPromptCache,
    readonly name: string,
  ) {
    if (typeof name !== 'string' || name.length === 0 || name.includes(':')) {
      throw new CacheConfigError(`namespace names are non-empty and contain no ':', got ${JSON.stringify(name)}`);
    }
    this.#cache = cache;
    this.#prefix = `${name}:`;
    this.#escapedPrefix = escapePattern(this.#prefix);
  }

  /** The full key in the parent cache. */
  key(key: string): string {
    assertKey(key);
    return this.#prefix + key;
  }

  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.#cache.get<T>(this.key(key));
  }

  getSync<T = unknown>(key: string): T | undefined {
    return this.#cache.getSync<T>(this.key(key));
  }

  set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    return this.#cache.set(this.key(key), value, options);
  }

  setSync(key: string, value: unknown, options?: SetOptions): void {
    this.#cache.setSync(this.key(key), value, options);
  }

  has(key: string): Promise<boolean> {
    return this.#cache.has(this.key(key));
  }

  delete(key: string): Promise<boolean> {
    return this.#cache.delete(this.key(key));
  }

  getOrCompute<T>(key: string, compute: () => T | Promise<T>, options?: GetOrComputeOptions<T>): Promise<T> {
    return this.#cache.getOrCompute(this.key(key), compute, options);
  }

  mget<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    return this.#cache.mget<T>(keys.map((key) => this.key(key)));
  }

  mset(entries: readonly MsetEntry[]): Promise<void> {
    return this.#cache.mset(entries.map((entry) => ({ ...entry, key: this.key(entry.key) })));
  }

  setPrompt(key: string, prompt: string, options?: SetOptions): Promise<void> {
    return this.#cache.setPrompt(this.key(key), prompt, options);
  }

  getPrompt(key: string): Promise<{ prompt: string; metadata: Record<string, unknown> } | undefined> {
    return this.#cache.getPrompt(this.key(key));
  }

  /** Invalidates keys of this namespace matching `pattern` (matched after the prefix). */
  async invalidate(pattern: string): Promise<number> {
    return this.#cache.invalidate(this.#pattern(pattern));
  }

  onInvalidate(pattern: string, callback: InvalidationCallback): () => void {
    return this.#cache.onInvalidate(this.#pattern(pattern), callback);
  }

  /** Removes every entry of this namespace (and only those). */
  clear(): Promise<number> {
    return this.#cache.invalidate(`${this.#escapedPrefix}*`);
  }

  #pattern(pattern: string): string {
    compilePattern(pattern);
    return this.#escapedPrefix + pattern;
  }
}
