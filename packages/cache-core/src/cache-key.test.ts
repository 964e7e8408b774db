import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { makeCacheKey, stableStringify } from './cache-key.js';
import { CacheKeyError } from './errors.js';

describe('stableStringify', () => {
  it('sorts object keys at every depth and drops undefined properties', () => {
    expect(stableStringify({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":1,"z":0}]},"b":1}');
  });

  it('represents Maps, Sets, Dates, BigInts and bytes deterministically', () => {
    expect(
      stableStringify(
        new Map([
          ['b', 1],
          ['a', 2],
        ]),
      ),
    ).toBe(
      stableStringify(
        new Map([
          ['a', 2],
          ['b', 1],
        ]),
      ),
    );
    expect(stableStringify(new Set([3, 1]))).toBe(stableStringify(new Set([1, 3])));
    expect(stableStringify(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    expect(stableStringify(12n)).toBe('{"$bigint":"12"}');
    expect(stableStringify(Buffer.from('hi'))).toBe('{"$bytes":"aGk="}');
    expect(stableStringify([Infinity, Number.NaN])).toBe('["Infinity","NaN"]');
  });

  it('rejects circular values, functions and symbols with CacheKeyError', () => {
    const loop: Record<string, unknown> = {};
    loop.loop = loop;
    expect(() => stableStringify(loop)).toThrow(CacheKeyError);
    expect(() => stableStringify({ f: () => 1 })).toThrow(CacheKeyError);
    expect(() => stableStringify(Symbol('s'))).toThrow(CacheKeyError);
  });
});

describe('makeCacheKey', () => {
  const context = { task: 'Implement auth', requirements: ['jwt', 'tests'], meta: { priority: 'high', owner: 'eng' } };

  it('is a sha256 hex digest, equal for equal parts whatever the key order', () => {
    const key = makeCacheKey('engineer', context);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(
      makeCacheKey('engineer', { meta: { owner: 'eng', priority: 'high' }, requirements: ['jwt', 'tests'], task: 'Implement auth' }),
    ).toBe(key);
    expect(makeCacheKey('qa', context)).not.toBe(key);
  });

  it('is the same in another process', () => {
    const script = `
      const { makeCacheKey } = await import(${JSON.stringify(new URL('./cache-key.ts', import.meta.url).href)});
      process.stdout.write(makeCacheKey('engineer', ${JSON.stringify(context)}));
    `;
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const other = execFileSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(other).toBe(makeCacheKey('engineer', context));
  });
});
