export { SharedPromptCache } from './shared-prompt-cache.js';
export { NamespacedCache } from './namespaced-cache.js';
export { cacheConfigPresets, resolveCacheConfig, type CacheConfigPresetName, type SharedPromptCacheOptions } from './config.js';
export { parseDuration, type Duration } from './duration.js';
export {
  CacheConfigError,
  CacheEntryTooLargeError,
  CacheError,
  CacheKeyError,
  CacheSerializationError,
  CacheStoreError,
  type CacheErrorCode,
} from './errors.js';
export { makeCacheKey, stableStringify } from './cache-key.js';
export { cached, memoize, type MemoizeOptions } from './memoize.js';
export { exportCacheMetrics, type CacheMetricsExporter, type CacheMetricsExporterOptions } from './prometheus.js';
export { resolveSharedPromptCache, SHARED_PROMPT_CACHE } from './tokens.js';
export { CACHE_SERVICE_NAME, CacheService, registerCacheService, type RegisterCacheServiceOptions } from './cache-service.js';
export { silentLogger, type Logger } from '@pm/service-manager/contract';
export type { CacheStore, InvalidationBus, InvalidationMessage, StoredEntry } from './stores/cache-store.js';
export { FileStore, type FileStoreOptions } from './stores/file-store.js';
export { RedisStore, type RedisStoreOptions } from './stores/redis-store.js';
export { RedisInvalidationBus, type RedisInvalidationBusOptions } from './stores/redis-invalidation-bus.js';
export { decodeEntry, encodeEntry, FORMAT_VERSION, type CodecOptions } from './stores/codec.js';
export type { BusMetrics, TierMetrics } from './tiers.js';
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
  MsetEntry,
  NamespaceMetrics,
  SetOptions,
  WarmItem,
  WarmOptions,
} from './types.js';
