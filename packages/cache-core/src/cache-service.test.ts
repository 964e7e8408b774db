import { inject, injectable, ServiceManager, serveHealth } from '@pm/service-manager';
import { describe, expect, it, vi } from 'vitest';
import { CACHE_SERVICE_NAME, CacheService, registerCacheService } from './cache-service.js';
import { CacheConfigError } from './errors.js';
import { SharedPromptCache } from './shared-prompt-cache.js';
import { resolveSharedPromptCache, SHARED_PROMPT_CACHE } from './tokens.js';

describe('registerCacheService', () => {
  it('runs the cache as a service through startAll, resolvable by the SHARED_PROMPT_CACHE token', async () => {
    const serviceManager = new ServiceManager();
    const service = registerCacheService(serviceManager, { maxEntries: 10 });
    const report = await serviceManager.startAll();
    expect(report).toMatchObject({ status: 'running', started: [CACHE_SERVICE_NAME] });
    expect(service).toBeInstanceOf(CacheService);
    expect(service.cache.started).toBe(true);
    expect(serviceManager.container.resolve(SHARED_PROMPT_CACHE)).toBe(service.cache);
    expect(serviceManager.get(CACHE_SERVICE_NAME)).toBe(service);
    expect((await serviceManager.health()).services[CACHE_SERVICE_NAME]).toMatchObject({
      status: 'healthy',
      critical: false,
      checks: { started: true, l1: true, memory: true },
    });
    await serviceManager.stopAll();
    expect(service.cache.started).toBe(false);
  });

  it('injects the cache into services that depend on it', async () => {
    @injectable()
    class PromptBuilder {
      constructor(@inject(SHARED_PROMPT_CACHE) readonly cache: SharedPromptCache) {}
      start() {
        this.cache.setSync('warm:1', 'ready');
      }
      stop() {}
    }
    const serviceManager = new ServiceManager();
    registerCacheService(serviceManager);
    serviceManager.register({ name: 'builder', useClass: PromptBuilder, dependsOn: [CACHE_SERVICE_NAME] });
    await serviceManager.startAll();
    const cache = serviceManager.container.resolve<SharedPromptCache>(SHARED_PROMPT_CACHE);
    expect(serviceManager.get<PromptBuilder>('builder').cache).toBe(cache);
    expect(cache.getSync('warm:1')).toBe('ready');
    await serviceManager.stopAll();
  });

  it('leaves the system degraded, never down, when the cache fails to start, and recovers by retrying', async () => {
    let failures = 1;
    class FlakyCache extends SharedPromptCache {
      override start(): Promise<void> {
        if (failures-- > 0) return Promise.reject(new Error('L2 unreachable'));
        return super.start();
      }
    }
    const serviceManager = new ServiceManager().register({ name: 'api', useValue: { start() {}, stop() {} } });
    registerCacheService(serviceManager, undefined, { cache: new FlakyCache(), restart: { maxRetries: 3, backoff: 10 } });
    const report = await serviceManager.startAll();
    expect(report.status).toBe('degraded');
    expect(report.failed).toEqual([{ name: CACHE_SERVICE_NAME, critical: false, error: 'L2 unreachable' }]);
    expect(serviceManager.isReady()).toBe(true);
    expect((await serviceManager.health()).status).toBe('degraded');
    await vi.waitFor(() => {
      expect(serviceManager.getState(CACHE_SERVICE_NAME)).toBe('running');
    });
    expect((await serviceManager.health()).status).toBe('healthy');
    await serviceManager.stopAll();
  });

  it("maps the cache's own health: over 90% of the byte budget reads degraded", async () => {
    const serviceManager = new ServiceManager();
    const { cache } = registerCacheService(serviceManager, { maxMemoryMb: 0.1 });
    await serviceManager.startAll();
    cache.setSync('big', 'x'.repeat(97_000));
    const health = await serviceManager.health();
    expect(health.status).toBe('degraded');
    expect(health.services[CACHE_SERVICE_NAME]).toMatchObject({ status: 'degraded', checks: { memory: false } });
    await serviceManager.stopAll();
  });

  it('honours critical and autoStart', async () => {
    const serviceManager = new ServiceManager();
    registerCacheService(serviceManager, undefined, { critical: true, autoStart: false });
    expect(serviceManager.isCritical(CACHE_SERVICE_NAME)).toBe(true);
    await serviceManager.startAll();
    expect(serviceManager.getState(CACHE_SERVICE_NAME)).toBe('registered');
  });

  it('resolveSharedPromptCache finds the registered cache, or undefined without one', () => {
    const withCache = new ServiceManager();
    const { cache } = registerCacheService(withCache);
    expect(resolveSharedPromptCache(withCache.container)).toBe(cache);
    expect(resolveSharedPromptCache(withCache.container.createChildContainer())).toBe(cache);
    expect(resolveSharedPromptCache(new ServiceManager().container)).toBeUndefined();
  });

  it('rejects an invalid config before registering anything', () => {
    const serviceManager = new ServiceManager();
    expect(() => registerCacheService(serviceManager, { maxEntries: -1 })).toThrow(CacheConfigError);
    expect(serviceManager.serviceNames).toEqual([]);
  });

  it('serves the cache metrics on the manager /metrics endpoint', async () => {
    const serviceManager = new ServiceManager();
    const { cache } = registerCacheService(serviceManager);
    await serviceManager.startAll();
    await cache.set('task_prompt:a', 'x');
    await cache.get('task_prompt:a');
    const server = await serveHealth(serviceManager);
    try {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toContain('pm_cache_hits_total{cache="shared_prompt_cache",namespace="task_prompt"} 1');
      expect(text).toContain('pm_service_up{service="shared_prompt_cache",critical="false"} 1');
    } finally {
      await server.close();
      await serviceManager.stopAll();
    }
  });
});
