import { minimatch, type MinimatchOptions } from 'minimatch';
import { CacheKeyError } from './errors.js';

/**
 * minimatch is a path matcher: its `*` and `?` never cross `/`. Cache keys are not paths, so
 * `/` is swapped for a noncharacter (never valid in interchange text) on both sides before
 * matching, which makes `*` cross `/` as fnmatch's does.
 */
const SLASH_STANDIN = '\uFFFF';

/** fnmatch semantics: no braces, extglobs, negation, comments or globstar; dots are ordinary. */
const FNMATCH: MinimatchOptions = {
  dot: true,
  nobrace: true,
  noext: true,
  nonegate: true,
  nocomment: true,
  noglobstar: true,
};

const MAGIC = /[*?[\\]/;

/** A compiled invalidation pattern. */
export interface KeyPattern {
  readonly source: string;
  /** True when the pattern has no glob characters and so names exactly one key. */
  readonly literal: boolean;
  /** The namespace every matching key must be in, when the pattern fixes it; else undefined. */
  readonly namespace: string | undefined;
  /** True for `ns:*`: every key of `namespace` matches, no per-key test needed. */
  readonly wholeNamespace: boolean;
  matches(key: string): boolean;
}

/**
 * Compiles an fnmatch-style glob matched against whole keys, case-sensitively:
 * `*` any run of characters (including `:` and `/`), `?` one character, `[abc]`/`[!abc]` a
 * class; `\` escapes the next character.
 */
export function compilePattern(pattern: unknown): KeyPattern {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new CacheKeyError(`a pattern must be a non-empty string, got ${pattern === '' ? 'an empty string' : typeof pattern}`);
  }
  const colon = pattern.indexOf(':');
  const head = colon === -1 ? undefined : pattern.slice(0, colon);
  const namespace = head !== undefined && !MAGIC.test(head) ? head : undefined;
  if (!MAGIC.test(pattern)) {
    return { source: pattern, literal: true, namespace, wholeNamespace: false, matches: (key) => key === pattern };
  }
  const regex = minimatch.makeRe(pattern.replaceAll('/', SLASH_STANDIN), FNMATCH);
  if (regex === false) throw new CacheKeyError(`invalid pattern ${JSON.stringify(pattern)}`);
  return {
    source: pattern,
    literal: false,
    namespace,
    wholeNamespace: namespace !== undefined && pattern === `${namespace}:*`,
    matches: (key) => regex.test(key.includes('/') ? key.replaceAll('/', SLASH_STANDIN) : key),
  };
}

/** Escapes glob characters so `text` matches only itself inside a pattern. */
export function escapePattern(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
