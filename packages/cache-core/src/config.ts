import { stableStringify } from './cache-key.js';
import { parseTimer, parseTtl, type Duration } from './duration.js';
import { CacheConfigError } from './errors.js';
import { silentLogger, type Logger } from '@pm/service-manager/contract';
import type { InvalidationBus } from './bus/invalidation-bus.js';
import type { CacheStore } from './stores/cache-store.js';
import type { EvictionPolicyName } from './types.js';

/** Options of {@link SharedPromptCache}. */
export interface SharedPromptCacheOptions {
  /** Most entries L1 holds (up to 16 777 216); entries are evicted past it. @default 1000 */
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
  /**
   * Which entry leaves when L1 is full. `'lru'`: the least recently used. `'tinylfu'`: W-TinyLFU,
   * a frequency sketch in front of the LRU, so one-off scans and loops larger than the cache do
   * not flush entries that are read again and again (see BENCHMARKS.md for hit ratios).
   * @default 'lru'
   */
  eviction?: EvictionPolicyName;
  /** A shared or persistent tier below L1: `FileStore`, `RedisStore`, or your own `CacheStore`. */
  l2?: CacheStore;
  /** Cross-process invalidation, such as `RedisInvalidationBus`. */
  bus?: InvalidationBus;
  /** Bound on one L2 or bus operation; past it the cache serves from L1. @default '1s' */
  tierTimeout?: Duration;
  /**
   * Distributed single-flight for `getOrCompute`: processes missing the same key take a lock in
   * L2 held as a lease of this length, renewed while `compute` runs, so one process computes and
   * the others wait for its value (woken by the bus). A holder that dies stops blocking the
   * others when its lease lapses. `false` turns it off.
   * @default '5s' with an L2 that can lock (RedisStore), else off
   */
  distributedLock?: Duration | false;
}

/** Options after validation, in the units the cache works in. */
export interface ResolvedCacheOptions {
  readonly maxEntries: number;
  readonly maxMemoryMb: number;
  readonly maxBytes: number;
  readonly eviction: EvictionPolicyName;
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
/** lru-cache allocates its arrays for `max` entries up front: past this, a typo costs gigabytes. */
const MAX_ENTRIES = 2 ** 24;
const EVICTION_POLICIES: readonly EvictionPolicyName[] = ['lru', 'tinylfu'];
const DEFAULT_LOCK_LEASE = '5s';
const KNOWN_OPTIONS = new Set([
  'maxEntries',
  'maxMemoryMb',
  'defaultTtl',
  'cleanupInterval',
  'enableMetrics',
  'namespaces',
  'logger',
  'eviction',
  'l2',
  'bus',
  'tierTimeout',
  'distributedLock',
]);
const STORE_METHODS = ['get', 'set', 'delete', 'invalidate', 'invalidateTags', 'clear', 'health'] as const;
const BUS_METHODS = ['connect', 'close', 'publish', 'subscribe'] as const;
const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'] as const;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null);

/** `namespaces: { name: { ttl } }`, validated: each name and each settings object. */
function resolveNamespaces(namespaces: unknown): Map<string, number> {
  const ttls = new Map<string, number>();
  if (namespaces === undefined) return ttls;
  if (!isPlainObject(namespaces))
    throw new CacheConfigError(`namespaces must be an object like { task_prompt: { ttl: '10m' } }, got ${describe(namespaces)}`);
  for (const [name, settings] of Object.entries(namespaces)) {
    if (name.length === 0 || name.includes(':')) {
      throw new CacheConfigError(`namespace names are non-empty and contain no ':', got ${JSON.stringify(name)}`);
    }
    if (!isPlainObject(settings))
      throw new CacheConfigError(`namespaces.${name} must be an object like { ttl: '10m' }, got ${describe(settings)}`);
    for (const key of Object.keys(settings))
      if (key !== 'ttl') throw new CacheConfigError(`namespaces.${name} has an unknown setting "${key}"; expected ttl`);
    if (settings.ttl !== undefined) ttls.set(name, parseTtl(settings.ttl, `namespaces.${name}.ttl`));
  }
  return ttls;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

function assertShape(value: unknown, methods: readonly string[], option: string): void {
  if (typeof value !== 'object' || value === null)
    throw new CacheConfigError(`${option} must be an object with ${methods.join(', ')} methods, got ${describe(value)}`);
  const missing = methods.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function');
  if (missing.length > 0) throw new CacheConfigError(`${option} must implement ${methods.join(', ')} (missing ${missing.join(', ')})`);
}

/** Validates options and fills in defaults; every problem is a {@link CacheConfigError}. */
export function resolveOptions(options: SharedPromptCacheOptions = {}): ResolvedCacheOptions {
  const input: unknown = options;
  if (!isPlainObject(input)) throw new CacheConfigError(`options must be an object, got ${describe(input)}`);
  for (const name of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(name)) {
      throw new CacheConfigError(`unknown option "${name}"; expected one of ${[...KNOWN_OPTIONS].join(', ')}`);
    }
  }
  const maxEntries = options.maxEntries ?? 1000;
  if (!(Number.isSafeInteger(maxEntries) && maxEntries > 0 && maxEntries <= MAX_ENTRIES)) {
    throw new CacheConfigError(`maxEntries must be an integer from 1 to ${MAX_ENTRIES}, got ${String(maxEntries)}`);
  }
  const eviction = options.eviction ?? 'lru';
  if (!EVICTION_POLICIES.includes(eviction))
    throw new CacheConfigError(`eviction must be one of ${EVICTION_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${describe(eviction)}`);
  const maxMemoryMb = options.maxMemoryMb ?? 100;
  if (typeof maxMemoryMb !== 'number' || !Number.isFinite(maxMemoryMb) || maxMemoryMb <= 0) {
    throw new CacheConfigError(`maxMemoryMb must be a positive finite number, got ${String(maxMemoryMb)}`);
  }
  if (maxMemoryMb * MIB < 1024 || !Number.isSafeInteger(Math.floor(maxMemoryMb * MIB))) {
    throw new CacheConfigError(
      `maxMemoryMb must be between 1 KiB (0.001) and ${Math.floor(Number.MAX_SAFE_INTEGER / MIB)} MiB, got ${String(maxMemoryMb)}`,
    );
  }
  const defaultTtlMs = parseTtl(options.defaultTtl ?? '30m', 'defaultTtl');
  const cleanupIntervalMs = parseTimer(options.cleanupInterval ?? '5m', 'cleanupInterval');
  const enableMetrics = options.enableMetrics ?? true;
  if (typeof enableMetrics !== 'boolean') throw new CacheConfigError('enableMetrics must be a boolean');
  const namespaceTtlMs = resolveNamespaces(options.namespaces);
  const logger = options.logger ?? silentLogger;
  assertShape(logger, LOGGER_METHODS, 'logger');
  if (options.l2 !== undefined) assertShape(options.l2, STORE_METHODS, 'l2');
  if (options.bus !== undefined) assertShape(options.bus, BUS_METHODS, 'bus');
  const tierTimeoutMs = parseTimer(options.tierTimeout ?? '1s', 'tierTimeout');
  const canLock = typeof options.l2?.lock === 'function';
  const lock = options.distributedLock ?? (canLock ? DEFAULT_LOCK_LEASE : false);
  const distributedLockMs = lock === false ? undefined : parseTimer(lock, 'distributedLock');
  if (distributedLockMs !== undefined && !canLock)
    throw new CacheConfigError('distributedLock needs an l2 store that supports lock() (RedisStore)');
  const resolved = {
    maxEntries,
    maxMemoryMb,
    maxBytes: Math.floor(maxMemoryMb * MIB),
    eviction,
    defaultTtlMs,
    cleanupIntervalMs,
    enableMetrics,
    namespaceTtlMs,
    tierTimeoutMs,
    distributedLockMs,
  };
  // The logger is left out (a different logger does not make a different cache); tiers count by kind.
  const fingerprint = stableStringify({
    ...resolved,
    namespaceTtlMs: Object.fromEntries(namespaceTtlMs),
    l2: options.l2?.name,
    bus: options.bus?.name,
  });
  return { ...resolved, logger, l2: options.l2, bus: options.bus, fingerprint };
}

/** The TTL of a write: the call's, else the key's namespace's, else the default. */
export function ttlFor(options: ResolvedCacheOptions, key: string, ttl: Duration | undefined): number {
  if (ttl !== undefined) return parseTtl(ttl, 'ttl');
  if (options.namespaceTtlMs.size > 0) {
    const colon = key.indexOf(':');
    const namespaceTtl = colon === -1 ? undefined : options.namespaceTtlMs.get(key.slice(0, colon));
    if (namespaceTtl !== undefined) return namespaceTtl;
  }
  return options.defaultTtlMs;
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
