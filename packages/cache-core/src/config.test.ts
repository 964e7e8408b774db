import { describe, expect, it } from 'vitest';
import { cacheConfigPresets, resolveCacheConfig, resolveOptions } from './config.js';
import { parseDuration } from './duration.js';
import { CacheConfigError } from './errors.js';

describe('parseDuration', () => {
  it.each([
    [250, 250],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5m', 90_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    [Infinity, Infinity],
  ])('%s is %d ms', (input, ms) => {
    expect(parseDuration(input, 'ttl')).toBe(ms);
  });

  it.each([0, -5, Number.NaN, '', '5', '5 minutes', '5y', '-1s', null, {}])('rejects %s, naming the option', (input) => {
    expect(() => parseDuration(input, 'defaultTtl')).toThrow(/defaultTtl/);
    expect(() => parseDuration(input, 'defaultTtl')).toThrow(CacheConfigError);
  });
});

describe('presets', () => {
  it('has the documented values', () => {
    expect(cacheConfigPresets.default).toEqual({ maxEntries: 1000, maxMemoryMb: 100, defaultTtl: '30m', cleanupInterval: '5m' });
    expect(cacheConfigPresets.development).toEqual({ maxEntries: 500, maxMemoryMb: 50, defaultTtl: '15m', cleanupInterval: '3m' });
    expect(cacheConfigPresets.production).toEqual({ maxEntries: 2000, maxMemoryMb: 200, defaultTtl: '1h', cleanupInterval: '10m' });
    for (const preset of Object.values(cacheConfigPresets)) expect(() => resolveOptions(preset)).not.toThrow();
  });

  it('defaults to 1000 entries, 100 MB, 30 minutes, 5 minutes', () => {
    expect(resolveOptions()).toMatchObject({
      maxEntries: 1000,
      maxMemoryMb: 100,
      defaultTtlMs: 1_800_000,
      cleanupIntervalMs: 300_000,
      enableMetrics: true,
    });
  });
});

describe('resolveCacheConfig', () => {
  it('returns a named preset, and a copy of it', () => {
    const config = resolveCacheConfig('production');
    expect(config).toEqual(cacheConfigPresets.production);
    expect(config).not.toBe(cacheConfigPresets.production);
  });

  it('throws for an unknown preset name, listing the known ones', () => {
    expect(() => resolveCacheConfig('staging')).toThrow(
      /unknown cache preset "staging"; expected one of default, development, production, test/,
    );
    expect(() => resolveCacheConfig({ PM_CACHE_PRESET: 'prod' })).toThrow(CacheConfigError);
  });

  it('follows NODE_ENV, falling back to default for values it does not know', () => {
    expect(resolveCacheConfig({ NODE_ENV: 'development' })).toEqual(cacheConfigPresets.development);
    expect(resolveCacheConfig({ NODE_ENV: 'staging' })).toEqual(cacheConfigPresets.default);
    expect(resolveCacheConfig({ NODE_ENV: 'development', PM_CACHE_PRESET: 'test' })).toEqual(cacheConfigPresets.test);
  });

  it('applies environment overrides and validates them', () => {
    expect(
      resolveCacheConfig({
        NODE_ENV: 'production',
        PM_CACHE_MAX_ENTRIES: '50',
        PM_CACHE_DEFAULT_TTL: '2m',
        PM_CACHE_CLEANUP_INTERVAL: '1000',
      }),
    ).toEqual({
      maxEntries: 50,
      maxMemoryMb: 200,
      defaultTtl: '2m',
      cleanupInterval: 1000,
    });
    expect(() => resolveCacheConfig({ PM_CACHE_MAX_MEMORY_MB: 'lots' })).toThrow(/PM_CACHE_MAX_MEMORY_MB must be a number/);
    expect(() => resolveCacheConfig({ PM_CACHE_MAX_ENTRIES: '-3' })).toThrow(/maxEntries must be an integer from 1 to 16777216, got -3/);
    expect(() => resolveCacheConfig({ PM_CACHE_DEFAULT_TTL: 'forever' })).toThrow(/defaultTtl/);
  });
});

describe('resolveOptions', () => {
  it('rejects bad namespaces, intervals and types', () => {
    expect(() => resolveOptions({ namespaces: { 'a:b': { ttl: '1m' } } })).toThrow(/contain no ':'/);
    expect(() => resolveOptions({ namespaces: { a: { ttl: 0 } } })).toThrow(/namespaces\.a\.ttl/);
    expect(() => resolveOptions({ cleanupInterval: Infinity })).toThrow(/cleanupInterval/);
    expect(() => resolveOptions({ enableMetrics: 'yes' as never })).toThrow(/enableMetrics/);
    expect(() => resolveOptions(null as never)).toThrow(/options must be an object/);
  });

  it('answers every malformed option with a CacheConfigError naming it, never a TypeError', () => {
    const bad: [unknown, RegExp][] = [
      [{ namespaces: { a: null } }, /namespaces\.a must be an object like \{ ttl: '10m' \}, got null/],
      [{ namespaces: 'x' }, /namespaces must be an object .* got "x"/],
      [{ namespaces: ['a'] }, /namespaces must be an object .* got an array/],
      [{ namespaces: { a: { ttl: '1m', tll: 1 } } }, /namespaces\.a has an unknown setting "tll"/],
      [{ logger: 5 }, /logger must be an object with debug, info, warn, error methods, got number/],
      [{ logger: { info() {} } }, /logger must implement debug, info, warn, error \(missing debug, warn, error\)/],
      [{ l2: 'redis://x' }, /l2 must be an object/],
      [{ maxMemoryMb: 1e-9 }, /maxMemoryMb must be between/],
      [[], /options must be an object, got an array/],
    ];
    for (const [options, message] of bad) {
      expect(() => resolveOptions(options as never)).toThrow(CacheConfigError);
      expect(() => resolveOptions(options as never)).toThrow(message);
    }
  });

  it('bounds durations by what timers and Redis can hold, instead of misfiring', () => {
    // A timer past 2^31-1 ms fires after 1 ms in Node; an interval would run the purge every millisecond.
    expect(() => resolveOptions({ cleanupInterval: '30d' })).toThrow(/cleanupInterval must be at most 2147483647 ms/);
    expect(() => resolveOptions({ tierTimeout: 2 ** 31 })).toThrow(/tierTimeout must be at most 2147483647 ms/);
    // A TTL of 1e21 ms was accepted, then every L2 write of it failed.
    expect(() => resolveOptions({ defaultTtl: 1e21 })).toThrow(/defaultTtl must be at most 100 years/);
    expect(() => resolveOptions({ namespaces: { a: { ttl: '36600d' } } })).toThrow(/namespaces\.a\.ttl must be at most 100 years/);
    expect(resolveOptions({ defaultTtl: Infinity }).defaultTtlMs).toBe(Infinity);
    expect(resolveOptions({ defaultTtl: '36500d' }).defaultTtlMs).toBe(36500 * 86_400_000);
  });

  it('gives equal configurations equal fingerprints, whatever the logger', () => {
    const noisy = { debug() {}, info() {}, warn() {}, error() {} };
    expect(resolveOptions({ defaultTtl: '1m' }).fingerprint).toBe(resolveOptions({ defaultTtl: 60_000, logger: noisy }).fingerprint);
    expect(resolveOptions({ defaultTtl: '1m' }).fingerprint).not.toBe(resolveOptions({ defaultTtl: '2m' }).fingerprint);
  });
});
