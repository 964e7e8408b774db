import { CacheKeyError } from '../errors.js';

/** A compiled invalidation pattern. */
export interface KeyPattern {
  readonly source: string;
  /** True when the pattern has no glob characters and so names exactly one key. */
  readonly literal: boolean;
  /** The text every matching key starts with (escapes resolved): narrows scans, SCAN MATCH. */
  readonly prefix: string;
  /** The namespace every matching key must be in, when the pattern fixes it; else undefined. */
  readonly namespace: string | undefined;
  /** True for `ns:*`: every key of `namespace` matches, no per-key test needed. */
  readonly wholeNamespace: boolean;
  matches(key: string): boolean;
}

/** Compiled patterns, reused: invalidation paths compile the same few patterns again and again. */
const compiled = new Map<string, KeyPattern>();
const COMPILED_MAX = 512;

type Token = { kind: 'literal'; text: string } | { kind: 'star' } | { kind: 'any' } | { kind: 'class'; source: string };

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;
const escapeRegex = (text: string): string => text.replace(REGEX_SPECIAL, '\\$&');
const codePoint = (char: string): string => `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`;

/**
 * Compiles an fnmatch-style glob matched against whole keys, case-sensitively: `*` any run of
 * characters (including `:`, `/` and dots: keys are not paths, so `*` matches `.` and `..`
 * too), `?` one character (a whole code point), `[abc]`, `[a-z]`, `[!abc]` (or `[^abc]`) a
 * class; `\` escapes the next character. An unclosed `[` is a literal `[`, as in fnmatch.
 * @throws CacheKeyError for a pattern that is not a non-empty string
 */
export function compilePattern(pattern: unknown): KeyPattern {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new CacheKeyError(`a pattern must be a non-empty string, got ${pattern === '' ? 'an empty string' : typeof pattern}`);
  }
  const cached = compiled.get(pattern);
  if (cached !== undefined) return cached;
  const result = build(pattern);
  if (compiled.size >= COMPILED_MAX) compiled.clear();
  compiled.set(pattern, result);
  return result;
}

function build(pattern: string): KeyPattern {
  const tokens = tokenize(pattern);
  let prefix = '';
  let firstMagic = tokens.length;
  for (const [i, token] of tokens.entries()) {
    if (token.kind !== 'literal') {
      firstMagic = i;
      break;
    }
    prefix += token.text;
  }
  const colon = prefix.indexOf(':');
  const namespace = colon === -1 ? undefined : prefix.slice(0, colon);
  if (firstMagic === tokens.length) {
    return { source: pattern, literal: true, prefix, namespace, wholeNamespace: false, matches: (key) => key === prefix };
  }
  const wholeNamespace =
    namespace !== undefined && prefix === `${namespace}:` && tokens.length === firstMagic + 1 && tokens[firstMagic]?.kind === 'star';
  const body = tokens.map((token) => {
    switch (token.kind) {
      case 'literal':
        return escapeRegex(token.text);
      case 'star':
        return '[^]*';
      case 'any':
        return '[^]';
      case 'class':
        return token.source;
    }
  });
  let regex: RegExp;
  try {
    regex = new RegExp(`^${body.join('')}$`, 'u');
  } catch (error) {
    throw new CacheKeyError(`invalid pattern ${JSON.stringify(pattern.slice(0, 200))}: ${(error as Error).message}`);
  }
  const matches = wholeNamespace ? (key: string) => key.startsWith(prefix) : (key: string) => key.startsWith(prefix) && regex.test(key);
  return { source: pattern, literal: false, prefix, namespace, wholeNamespace, matches };
}

function tokenize(pattern: string): Token[] {
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  const literal = (text: string): void => {
    const last = tokens.at(-1);
    if (last?.kind === 'literal') last.text += text;
    else tokens.push({ kind: 'literal', text });
  };
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] ?? '';
    if (char === '\\') {
      literal(chars[i + 1] ?? '\\');
      i++;
    } else if (char === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (char === '?') {
      tokens.push({ kind: 'any' });
    } else if (char === '[') {
      const parsed = parseClass(chars, i);
      if (parsed === undefined) {
        literal('[');
      } else {
        tokens.push({ kind: 'class', source: parsed.source });
        i = parsed.end;
      }
    } else {
      literal(char);
    }
  }
  return tokens;
}

/** A `[...]` class starting at `start`, as a regex class; undefined when it never closes. */
function parseClass(chars: readonly string[], start: number): { source: string; end: number } | undefined {
  let i = start + 1;
  const negated = chars[i] === '!' || chars[i] === '^';
  if (negated) i++;
  const members: string[] = [];
  let first = true;
  for (; i < chars.length; i++) {
    let char = chars[i] ?? '';
    // A `]` right after the opening (or its `!`) is a member, as in fnmatch.
    if (char === ']' && !first) {
      const set = members.join('');
      if (set === '') return { source: negated ? '[^]' : '(?!)', end: i };
      return { source: `[${negated ? '^' : ''}${set}]`, end: i };
    }
    first = false;
    if (char === '\\' && i + 1 < chars.length) char = chars[++i] ?? '';
    if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
      let end = chars[i + 2] ?? '';
      let skip = 2;
      if (end === '\\' && i + 3 < chars.length) {
        end = chars[i + 3] ?? '';
        skip = 3;
      }
      // A reversed range matches nothing, as in fnmatch.
      if ((char.codePointAt(0) ?? 0) <= (end.codePointAt(0) ?? 0)) members.push(`${codePoint(char)}-${codePoint(end)}`);
      i += skip;
    } else {
      members.push(codePoint(char));
    }
  }
  return undefined;
}

/** Escapes glob characters so `text` matches only itself inside a pattern. */
export function escapePattern(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
