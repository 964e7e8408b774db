import type { SharedPromptCache } from './shared-prompt-cache.js';

/**
 * DI token under which the process's {@link SharedPromptCache} is registered
 * (`container.resolve(SHARED_PROMPT_CACHE)`). `Symbol.for` keeps it one token even when two
 * copies of this package are installed.
 */
export const SHARED_PROMPT_CACHE: unique symbol = Symbol.for('@pm/cache-core:SHARED_PROMPT_CACHE');

/** The part of a DI container this needs (tsyringe's `DependencyContainer` fits). */
interface Container {
  isRegistered(token: symbol, recursive?: boolean): boolean;
  resolve<T>(token: symbol): T;
}

/**
 * The cache registered under {@link SHARED_PROMPT_CACHE} in `container` (or a parent), or
 * undefined: for consumers that treat the cache as an optimisation and work without it.
 */
export function resolveSharedPromptCache(container: Container): SharedPromptCache | undefined {
  return container.isRegistered(SHARED_PROMPT_CACHE, true) ? container.resolve<SharedPromptCache>(SHARED_PROMPT_CACHE) : undefined;
}
