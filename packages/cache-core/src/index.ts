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
export { SHARED_PROMPT_CACHE } from './tokens.js';
export { CACHE_SERVICE_NAME, CacheService, registerCacheService, type RegisterCacheServiceOptions } from './cache-service.js';
export { silentLogger, type Logger } from '@pm/service-manager/contract';
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
