import { describe, expect, it } from 'vitest';
import { NamespaceRegistry } from '../stats/namespace-stats.js';
import { compilePattern, escapePattern } from './pattern.js';

describe('compilePattern', () => {
  it.each([
    ['task_prompt:*', 'task_prompt:engineer:abc', true],
    ['task_prompt:*', 'task_prompt:', true],
    ['*', 'a/b:c', true],
    ['a*c', 'a/b/c', true],
    ['a?c', 'a/c', true],
    ['a?c', 'abbc', false],
    ['[ab]:x', 'b:x', true],
    ['[!ab]:x', 'c:x', true],
    ['[!ab]:x', 'a:x', false],
    ['*.md', '.md', true],
    ['TASK:*', 'task:1', false],
    ['a\\*', 'a*', true],
    ['a\\*', 'ab', false],
    // Keys are not paths: `*` matches dot-only keys, as Python's fnmatch does (minimatch would not).
    ['*', '.', true],
    ['*', '..', true],
    ['.*', '.', true],
    ['x*y*z', 'x.y.z', true],
    ['x*y*z', 'xz', false],
    // `?` is one character, a whole code point.
    ['?', '字', true],
    ['?', '🙂', true],
    ['??', '🙂', false],
    // Classes as fnmatch reads them: `]` first is a member, ranges, reversed ranges match nothing.
    ['[]]', ']', true],
    ['[]]', '[', false],
    ['[!]]', ']', false],
    ['[!]]', 'x', true],
    ['[a-c]x', 'bx', true],
    ['[c-a]x', 'bx', false],
    ['[-a]', '-', true],
    ['[a-]', '-', true],
    ['[*]', '*', true],
    ['[*]', 'x', false],
    // An unclosed `[` is literal.
    ['a[', 'a[', true],
    ['a[b', 'a[b', true],
    ['ns:*', 'ns:', true],
  ])('%s matches %s: %s', (pattern, key, expected) => {
    expect(compilePattern(pattern).matches(key)).toBe(expected);
  });

  it('knows the namespace a pattern fixes, and only then', () => {
    expect(compilePattern('task_prompt:*')).toMatchObject({ namespace: 'task_prompt', wholeNamespace: true, literal: false });
    expect(compilePattern('task_prompt:eng*')).toMatchObject({ namespace: 'task_prompt', wholeNamespace: false });
    expect(compilePattern('task_*:x').namespace).toBeUndefined();
    expect(compilePattern('*').namespace).toBeUndefined();
    expect(compilePattern('[a:]b:*').namespace).toBeUndefined();
    expect(compilePattern('exact:key')).toMatchObject({ literal: true, namespace: 'exact' });
    expect(compilePattern('we\\*ird:*')).toMatchObject({ namespace: 'we*ird', wholeNamespace: true, prefix: 'we*ird:' });
    expect(compilePattern('a\\*b')).toMatchObject({ literal: true, prefix: 'a*b' });
  });

  it('rejects what is not a pattern, naming it', () => {
    expect(() => compilePattern('')).toThrow(/non-empty string/);
    expect(() => compilePattern(42)).toThrow(/got number/);
  });

  it('escapes glob characters', () => {
    expect(compilePattern(`${escapePattern('we*ird[1]?')}:*`).matches('we*ird[1]?:x')).toBe(true);
    expect(compilePattern(`${escapePattern('we*ird')}:*`).matches('weXird:x')).toBe(false);
  });
});

describe('NamespaceRegistry', () => {
  it('maps keys to their namespace bucket, each with its own id', () => {
    const registry = new NamespaceRegistry();
    const a = registry.forKey('a:1');
    expect(registry.forKey('a:2')).toBe(a);
    expect(registry.forKey('b:1')).not.toBe(a);
    expect(registry.forKey('nocolon').name).toBe('(none)');
    expect(registry.byId(a.id)).toBe(a);
    expect(registry.holding('a')).toEqual({ stats: a, exclusive: true });
    expect(registry.holding('zzz')).toBeUndefined();
  });

  it('takes the namespace before the first colon whatever namespace came just before', () => {
    const registry = new NamespaceRegistry();
    const name = (key: string) => registry.forKey(key).name;
    // Each key follows one that primes the last-namespace shortcut with a near miss.
    expect([name('a:1'), name('ab:1'), name('a'), name('a:b:c'), name(':x'), name('a:1'), name('a::')]).toEqual([
      'a',
      'ab',
      '(none)',
      'a',
      '',
      'a',
      'a',
    ]);
    expect([name('task:1'), name('tas:k:1'), name('task'), name('task:'), name('taskk:1')]).toEqual([
      'task',
      'tas',
      '(none)',
      'task',
      'taskk',
    ]);
  });

  it('shares one bucket past the namespace cap, and says it is shared', () => {
    const registry = new NamespaceRegistry();
    for (let i = 0; i < 300; i++) registry.forKey(`n${i}:k`);
    expect(registry.holding('n0')!.exclusive).toBe(true);
    expect(registry.holding('n299')).toMatchObject({ exclusive: false });
    expect(registry.holding('n299')!.stats.name).toBe('(other)');
  });
});
