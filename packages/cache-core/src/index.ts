/**
 * `@pm/cache-core`: the shared prompt cache. This entry point loads no Redis code: the Redis
 * tier and bus are in `@pm/cache-core/redis`, the file tier in `@pm/cache-core/file`, the
 * driver conformance suite and the Redis test harness in `@pm/cache-core/testing`.
 */
export { SharedPromptCache } from './shared-prompt-cache.js';
export { NamespacedCache } from './namespaced-cache.js';
export { cacheConfigPresets, resolveCacheConfig, type CacheConfigPresetName, type SharedPromptCacheOptions } from './config.js';
export { MAX_TTL_MS, parseDuration, type Duration } from './duration.js';
export {
  CacheAuthError,
  CacheConfigError,
  CacheEntryTooLargeError,
  CacheError,
  CacheKeyError,
  CacheSerializationError,
  CacheStoreError,
  type CacheErrorCode,
  type StoreFailure,
} from './errors.js';
export { makeCacheKey, stableStringify } from './cache-key.js';
export { escapePattern } from './invalidation/pattern.js';
export { cached, memoize, type MemoizeOptions } from './memoize.js';
export { cacheDashboardPanel, type PanelSource } from './stats/dashboard-panel.js';
export { exportCacheMetrics, type CacheMetricsExporter, type CacheMetricsExporterOptions, type MetricsSource } from './stats/prometheus.js';
export { resolveSharedPromptCache, SHARED_PROMPT_CACHE } from './tokens.js';
export { CACHE_SERVICE_NAME, CacheService, registerCacheService, type RegisterCacheServiceOptions } from './cache-service.js';
export { silentLogger, type Logger } from '@pm/service-manager/contract';
export type { CacheStore, ReadOrLock, StoredEntry, StoreLease } from './stores/cache-store.js';
export type { InvalidationBus, InvalidationHandlers, InvalidationMessage, InvalidationMessageType } from './bus/invalidation-bus.js';
export type { BusMetrics } from './tiers/bus-tier.js';
export type { LockWaitMetrics, ReplayMetrics } from './tiers/shared-tiers.js';
export { LATENCY_BUCKETS_SECONDS } from './stats/latency.js';
export type { TierMetrics } from './tiers/store-tier.js';
export type {
  CacheEntryInfo,
  CacheInfo,
  CacheMetrics,
  GetOrComputeOptions,
  HealthReport,
  HealthStatus,
  InvalidationCallback,
  InvalidationEvent,
  MemoryPressureResult,
  MemoryPressureSeverity,
  EvictionPolicyName,
  LatencyMetrics,
  MsetEntry,
  NamespaceMetrics,
  SetOptions,
  WarmItem,
  WarmOptions,
} from './types.js';
