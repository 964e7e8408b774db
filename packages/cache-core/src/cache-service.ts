import type { ServiceManager, RestartPolicy } from '@pm/service-manager';
import type { Duration, Service, ServiceHealth } from '@pm/service-manager/contract';
import type { SharedPromptCacheOptions } from './config.js';
import { cacheDashboardPanel } from './stats/dashboard-panel.js';
import { exportCacheMetrics } from './stats/prometheus.js';
import { SharedPromptCache } from './shared-prompt-cache.js';
import { SHARED_PROMPT_CACHE } from './tokens.js';

/** The name the cache service is registered under. */
export const CACHE_SERVICE_NAME = 'shared_prompt_cache';

/** A {@link SharedPromptCache} as a lifecycle-managed service; its health is the cache's own. */
export class CacheService implements Service {
  constructor(readonly cache: SharedPromptCache) {}

  start(): Promise<void> {
    return this.cache.start();
  }

  stop(): Promise<void> {
    return this.cache.stop();
  }

  async healthCheck(): Promise<ServiceHealth> {
    const { status, checks, message } = await this.cache.healthCheck();
    return { status, checks, message };
  }
}

export interface RegisterCacheServiceOptions {
  /** @default true */
  autoStart?: boolean;
  /** A cache that fails is not worth failing startup for: by default the system runs degraded. @default false */
  critical?: boolean;
  /** Retry a failed start with backoff. @default { maxRetries: 5, backoff: '1s' } */
  restart?: RestartPolicy;
  /** @default '30s' */
  healthCheckInterval?: Duration;
  /** Use this cache (say, `SharedPromptCache.getInstance()`) instead of creating one from `config`. */
  cache?: SharedPromptCache;
}

/**
 * Registers the cache with a service manager: the service under the name `shared_prompt_cache`
 * (non-critical, health-checked), the cache itself under the {@link SHARED_PROMPT_CACHE} DI
 * token of the manager's container, its Prometheus metrics in the manager's registry, and its
 * panel on the manager's dashboard.
 *
 * ```ts
 * const serviceManager = new ServiceManager();
 * registerCacheService(serviceManager);
 * await serviceManager.startAll();
 * ```
 * @throws CacheConfigError for an invalid `config`, before anything is registered
 */
export function registerCacheService(
  serviceManager: ServiceManager,
  config?: SharedPromptCacheOptions,
  options: RegisterCacheServiceOptions = {},
): CacheService {
  const cache = options.cache ?? new SharedPromptCache(config);
  const service = new CacheService(cache);
  serviceManager.register({
    name: CACHE_SERVICE_NAME,
    useValue: service,
    token: CacheService,
    critical: options.critical ?? false,
    autoStart: options.autoStart ?? true,
    restart: options.restart ?? { maxRetries: 5, backoff: '1s' },
    ...(options.healthCheckInterval === undefined ? {} : { healthCheckInterval: options.healthCheckInterval }),
  });
  serviceManager.container.register(SHARED_PROMPT_CACHE, { useValue: cache });
  exportCacheMetrics(cache, { registry: serviceManager.metricsRegistry });
  serviceManager.dashboard.addPanel(cacheDashboardPanel(cache, CACHE_SERVICE_NAME));
  return service;
}
