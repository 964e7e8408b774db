import { stableStringify } from './cache-key.js';
import { parseDuration, type Duration } from './duration.js';
import { CacheConfigError } from './errors.js';
import { silentLogger, type Logger } from '@pm/service-manager/contract';
import type { CacheStore, InvalidationBus } from './stores/cache-store.js';

/** Options of {@link SharedPromptCache}. */
export interface SharedPromptCacheOptions {
  /** Most entries L1 holds; least recently used entries are evicted past it. @default 1000 */
  maxEntries?: number;
  /** Hard bound on the bytes L1 accounts for (MiB). @default 100 */
  maxMemoryMb?: number;
  /** TTL when neither the call nor the key's namespace sets one; `Infinity` never expires. @default '30m' */
  defaultTtl?: Duration;
  /** How often expired entries are purged while the cache is started. @default '5m' */
  cleanupInterval?: Duration;
  /** Count hits, misses and the other counters of `getMetrics()`. @default true */
  enableMetrics?: boolean;
  /** Per-namespace settings; a key's namespace is the text before its first `:`. */
  namespaces?: Record<string, { ttl?: Duration }>;
  /** pino-compatible logger. @default silent */
  logger?: Logger;
  /** A shared or persistent tier below L1: `FileStore`, `RedisStore`, or your own `CacheStore`. */
  l2?: CacheStore;
  /** Cross-process invalidation, such as `RedisInvalidationBus`. */
  bus?: InvalidationBus;
  /** Bound on one L2 or bus operation; past it the cache serves from L1. @default '1s' */
  tierTimeout?: Duration;
  /**
   * Distributed single-flight for `getOrCompute`: processes missing the same key take a lock in
   * L2 (it must support `lock`) held at most this long, so one computes and the others wait for
   * its value. @default off
   */
  distributedLock?: Duration;
}

/** Options after validation, in the units the cache works in. */
export interface ResolvedCacheOptions {
  readonly maxEntries: number;
  readonly maxMemoryMb: number;
  readonly maxBytes: number;
  readonly defaultTtlMs: number;
  readonly cleanupIntervalMs: number;
  readonly enableMetrics: boolean;
  readonly namespaceTtlMs: ReadonlyMap<string, number>;
  readonly logger: Logger;
  readonly l2: CacheStore | undefined;
  readonly bus: InvalidationBus | undefined;
  readonly tierTimeoutMs: number;
  readonly distributedLockMs: number | undefined;
  /** Identifies the configuration, to tell whether two option objects mean the same cache. */
  readonly fingerprint: string;
}

const MIB = 1024 * 1024;
const KNOWN_OPTIONS = new Set(['maxEntries', 'maxMemoryMb', 'defaultTtl', 'cleanupInterval', 'enableMetrics', 'namespaces', 'logger', 'l2', 'bus', 'tierTimeout', 'distributedLock']);
const STORE_METHODS = ['get', 'set', 'delete', 'invalidate', 'clear', 'health'] as const;
const BUS_METHODS = ['connect', 'close', 'publish', 'subscribe'] as const;

function assertShape(value: unknown, methods: readonly string[], option: string): void {
  const missing = methods.filter((m) => typeof (value as Record<string, unknown> | null)?.[m] !== 'function');
  if (typeof value !== 'object' || value === null || missing.length > 0) {
    throw new CacheConfigError(`${option} must implement ${methods.join(', ')}${missing.length > 0 && typeof value === 'object' && value !== null ? ` (missing ${missing.join(', ')})` : ''}`);
  }
}

/** Validates options and fills in defaults; every problem is a {@link CacheConfigError}. */
export function resolveOptions(options: SharedPromptCacheOptions = {}): ResolvedCacheOptions {
  const input: unknown = options;
  if (typeof input !== 'object' || input === null) throw new CacheConfigError('options must be an object');
  for (const name of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(name)) {
      throw new CacheConfigError(`unknown option "${name}"; expected one of ${[...KNOWN_OPTIONS].join(', ')}`);
    }
  }
  const maxEntries = options.maxEntries ?? 1000;
  if (!(Number.isSafeInteger(maxEntries) && maxEntries > 0)) {
    throw new CacheConfigError(`maxEntries must be a positive integer, got ${String(maxEntries)}`);
  }
  const maxMemoryMb = options.maxMemoryMb ?? 100;
  if (typeof maxMemoryMb !== 'number' || !Number.isFinite(maxMemoryMb) || maxMemoryMb <= 0) {
    throw new CacheConfigError(`maxMemoryMb must be a positive finite number, got ${String(maxMemoryMb)}`);
  }
  const defaultTtlMs = parseDuration(options.defaultTtl ?? '30m', 'defaultTtl');
  const cleanupIntervalMs = parseDuration(options.cleanupInterval ?? '5m', 'cleanupInterval');
  if (!Number.isFinite(cleanupIntervalMs) || cleanupIntervalMs > 2 ** 31 - 1) {
    throw new CacheConfigError(`cleanupInterval must be at most 24.8 days, got ${String(options.cleanupInterval)}`);
  }
  const enableMetrics = options.enableMetrics ?? true;
  if (typeof enableMetrics !== 'boolean') throw new CacheConfigError('enableMetrics must be a boolean');
  const namespaceTtlMs = new Map<string, number>();
  for (const [name, settings] of Object.entries(options.namespaces ?? {})) {
    if (name.length === 0 || name.includes(':')) {
      throw new CacheConfigError(`namespace names are non-empty and contain no ':', got ${JSON.stringify(name)}`);
    }
    if (settings.ttl !== undefined) namespaceTtlMs.set(name, parseDuration(settings.ttl, `namespaces.${name}.ttl`));
  }
  const logger = options.logger ?? silentLogger;
  if (options.l2 !== undefined) assertShape(options.l2, STORE_METHODS, 'l2');
  if (options.bus !== undefined) assertShape(options.bus, BUS_METHODS, 'bus');
  const tierTimeoutMs = parseDuration(options.tierTimeout ?? '1s', 'tierTimeout');
  const distributedLockMs = options.distributedLock === undefined ? undefined : parseDuration(options.distributedLock, 'distributedLock');
  if (distributedLockMs !== undefined && options.l2?.lock === undefined) throw new CacheConfigError('distributedLock needs an l2 store that supports lock() (RedisStore)');
  const resolved = {
    maxEntries,
    maxMemoryMb,
    maxBytes: Math.floor(maxMemoryMb * MIB),
    defaultTtlMs,
    cleanupIntervalMs,
    enableMetrics,
    namespaceTtlMs,
    tierTimeoutMs,
    distributedLockMs,
  };
  // The logger is left out (a different logger does not make a different cache); tiers count by kind.
  const fingerprint = stableStringify({ ...resolved, namespaceTtlMs: Object.fromEntries(namespaceTtlMs), l2: options.l2?.name, bus: options.bus?.name });
  return { ...resolved, logger, l2: options.l2, bus: options.bus, fingerprint };
}

/** Named configurations; `default` is what `new SharedPromptCache()` uses. */
export const cacheConfigPresets = {
  default: { maxEntries: 1000, maxMemoryMb: 100, defaultTtl: '30m', cleanupInterval: '5m' },
  development: { maxEntries: 500, maxMemoryMb: 50, defaultTtl: '15m', cleanupInterval: '3m' },
  production: { maxEntries: 2000, maxMemoryMb: 200, defaultTtl: '1h', cleanupInterval: '10m' },
  test: { maxEntries: 100, maxMemoryMb: 10, defaultTtl: '1m', cleanupInterval: '1s' },
} as const satisfies Record<string, SharedPromptCacheOptions>;

export type CacheConfigPresetName = keyof typeof cacheConfigPresets;

function isPresetName(name: string): name is CacheConfigPresetName {
  return Object.hasOwn(cacheConfigPresets, name);
}

const ENV_OVERRIDES = {
  PM_CACHE_MAX_ENTRIES: 'maxEntries',
  PM_CACHE_MAX_MEMORY_MB: 'maxMemoryMb',
  PM_CACHE_DEFAULT_TTL: 'defaultTtl',
  PM_CACHE_CLEANUP_INTERVAL: 'cleanupInterval',
} as const;

/**
 * Picks a preset and applies environment overrides.
 *
 * - `resolveCacheConfig('production')`: that preset; an unknown name throws.
 * - `resolveCacheConfig(process.env)` (the default): the preset named by `PM_CACHE_PRESET`
 *   (unknown throws) or else `NODE_ENV` (unknown falls back to `default`), then
 *   `PM_CACHE_MAX_ENTRIES`, `PM_CACHE_MAX_MEMORY_MB`, `PM_CACHE_DEFAULT_TTL` and
 *   `PM_CACHE_CLEANUP_INTERVAL` override it. The result is validated.
 */
export function resolveCacheConfig(env: string | Record<string, string | undefined> = process.env): SharedPromptCacheOptions {
  const vars = typeof env === 'string' ? { PM_CACHE_PRESET: env } : env;
  const explicit = vars.PM_CACHE_PRESET;
  let name: CacheConfigPresetName = 'default';
  if (explicit !== undefined && explicit !== '') {
    if (!isPresetName(explicit)) {
      throw new CacheConfigError(`unknown cache preset "${explicit}"; expected one of ${Object.keys(cacheConfigPresets).join(', ')}`);
    }
    name = explicit;
  } else if (vars.NODE_ENV !== undefined && isPresetName(vars.NODE_ENV)) {
    name = vars.NODE_ENV;
  }
  const config: Record<string, unknown> = { ...cacheConfigPresets[name] };
  for (const [variable, option] of Object.entries(ENV_OVERRIDES)) {
    const raw = vars[variable]?.trim();
    if (raw === undefined || raw === '') continue;
    const numeric = Number(raw);
    config[option] = option === 'maxEntries' || option === 'maxMemoryMb' || !Number.isNaN(numeric) ? numeric : raw;
    if (Number.isNaN(config[option])) throw new CacheConfigError(`${variable} must be a number, got ${JSON.stringify(raw)}`);
  }
  resolveOptions(config);
  return config;
}
