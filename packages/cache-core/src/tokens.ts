/**
 * DI token under which the process's {@link SharedPromptCache} is registered
 * (`container.resolve(SHARED_PROMPT_CACHE)`). `Symbol.for` keeps it one token even when two
 * copies of this package are installed.
 */
export const SHARED_PROMPT_CACHE: unique symbol = Symbol.for('@pm/cache-core:SHARED_PROMPT_CACHE');
