import { describe, expect, it, vi } from 'vitest';
import { RecordingService } from './fixtures/recording-service.js';
import { ServiceManager } from './service-manager.js';
import { backoffDelay, withTimeout } from './timing.js';
import type { Service, ServiceHealth } from './types.js';

const ok = (): ServiceHealth => ({ status: 'healthy' });

function withHealth(name: string, health: () => ServiceHealth | Promise<ServiceHealth>, critical = true) {
  return { name, useValue: new RecordingService(name, [], { health }), critical, healthCheckTimeout: 50 } as const;
}

describe('health()', () => {
  it('is healthy when every service is running and healthy, and passes checks through', async () => {
    const manager = new ServiceManager().register(withHealth('a', () => ({ status: 'healthy', checks: { disk: true }, message: 'fine' })));
    await manager.startAll();
    const health = await manager.health();
    expect(health).toMatchObject({ status: 'healthy', ready: true, live: true });
    expect(health.services.a).toEqual({ status: 'healthy', state: 'running', critical: true, checks: { disk: true }, message: 'fine' });
    expect(new Date(health.timestamp).toISOString()).toBe(health.timestamp);
  });

  it('reads a throwing check as unhealthy: unhealthy overall for a critical service', async () => {
    const manager = new ServiceManager()
      .register(
        withHealth('db', () => {
          throw new Error('disk full');
        }),
      )
      .register(withHealth('x', ok));
    await manager.startAll();
    const health = await manager.health();
    expect(health.status).toBe('unhealthy');
    expect(health.services.db).toMatchObject({ status: 'unhealthy', error: 'disk full' });
  });

  it('reads a hanging check as unhealthy after its bound: degraded overall for a non-critical service', async () => {
    const manager = new ServiceManager()
      .register(withHealth('cache', () => new Promise<ServiceHealth>(() => undefined), false))
      .register(withHealth('db', ok));
    await manager.startAll();
    const health = await manager.health();
    expect(health.status).toBe('degraded');
    expect(health.services.cache!.error).toMatch(/health check of "cache" did not finish within 50 ms/);
  });

  it('is degraded when a service reports degraded, and rejects nonsense statuses', async () => {
    const manager = new ServiceManager()
      .register(withHealth('a', () => ({ status: 'degraded' })))
      .register(withHealth('b', () => ({ status: 'fine' }) as never, false));
    await manager.startAll();
    const health = await manager.health();
    expect(health.status).toBe('degraded');
    expect(health.services.b).toMatchObject({ status: 'unhealthy', error: expect.stringMatching(/invalid status "fine"/) as string });
  });

  it('separates readiness (critical services running) from liveness (not shutting down)', async () => {
    const manager = new ServiceManager().register(withHealth('a', ok));
    expect(manager.isReady()).toBe(false);
    expect(manager.isLive()).toBe(true);
    await manager.startAll();
    expect(manager.isReady()).toBe(true);
    await manager.stopAll();
    expect([manager.isReady(), manager.isLive()]).toEqual([false, false]);
  });
});

describe('periodic health checks and restarts', () => {
  it('checks running services every healthCheckInterval and emits health changes', async () => {
    let status: ServiceHealth['status'] = 'healthy';
    const manager = new ServiceManager().register({ ...withHealth('a', () => ({ status })), healthCheckInterval: 20 });
    const seen: string[] = [];
    manager.on('health', (e) => seen.push(`${e.name}:${e.health.status}`));
    await manager.startAll();
    await vi.waitFor(() => {
      expect(seen).toEqual(['a:healthy']);
    });
    status = 'degraded';
    await vi.waitFor(() => {
      expect(seen).toEqual(['a:healthy', 'a:degraded']);
    });
    await manager.stopAll();
  });

  it('restarts a running service whose health check fails repeatedly', async () => {
    const log: string[] = [];
    let healthy = true;
    const service = new RecordingService('flaky', log, { health: () => ({ status: healthy ? 'healthy' : 'unhealthy' }) });
    const manager = new ServiceManager().register({
      name: 'flaky',
      useValue: service,
      critical: false,
      healthCheckInterval: 10,
      restart: { maxRetries: 3, backoff: 10, unhealthyThreshold: 3 },
    });
    await manager.startAll();
    healthy = false;
    await vi.waitFor(() => {
      expect(log).toContain('stop:flaky');
    });
    healthy = true;
    await vi.waitFor(() => {
      expect(log.filter((l) => l === 'started:flaky')).toHaveLength(2);
    });
    expect(manager.getState('flaky')).toBe('running');
    await manager.stopAll();
  });

  it('retries a failed non-critical start with backoff until it succeeds', async () => {
    let attempts = 0;
    const service: Service = {
      start() {
        attempts++;
        if (attempts < 3) throw new Error(`attempt ${attempts} failed`);
      },
      stop() {},
    };
    const manager = new ServiceManager().register({
      name: 'cache',
      useValue: service,
      critical: false,
      restart: { maxRetries: 5, backoff: 10 },
    });
    const report = await manager.startAll();
    expect(report.status).toBe('degraded');
    await vi.waitFor(() => {
      expect(manager.getState('cache')).toBe('running');
    });
    expect(attempts).toBe(3);
    expect((await manager.health()).status).toBe('healthy');
  });

  it('gives up after maxRetries and leaves the service failed', async () => {
    let attempts = 0;
    const failures: unknown[] = [];
    const manager = new ServiceManager().register({
      name: 'cache',
      useValue: {
        start: () => {
          attempts++;
          throw new Error('down');
        },
        stop() {},
      },
      critical: false,
      restart: { maxRetries: 2, backoff: 5 },
    });
    manager.on('failed', (e) => failures.push(e.error));
    await manager.startAll();
    await vi.waitFor(() => {
      expect(failures).toHaveLength(3);
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(attempts).toBe(3);
    expect(manager.getState('cache')).toBe('failed');
  });

  it('cancels pending retries on stopAll', async () => {
    let attempts = 0;
    const manager = new ServiceManager().register({
      name: 'cache',
      useValue: {
        start: () => {
          attempts++;
          throw new Error('down');
        },
        stop() {},
      },
      critical: false,
      restart: { maxRetries: 5, backoff: 40 },
    });
    await manager.startAll();
    await manager.stopAll();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(attempts).toBe(1);
  });
});

describe('timing helpers', () => {
  it('backoff doubles per attempt with jitter in the upper half, capped', () => {
    expect(backoffDelay(1, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelay(4, 100, 10_000, () => 1)).toBe(800);
    expect(backoffDelay(20, 100, 1000, () => 0.5)).toBe(750);
  });

  it('withTimeout passes results and errors through and never times out an infinite bound', async () => {
    await expect(withTimeout(() => 1, 10, 'x')).resolves.toBe(1);
    await expect(
      withTimeout(
        () => {
          throw new Error('sync');
        },
        10,
        'x',
      ),
    ).rejects.toThrow('sync');
    await expect(
      withTimeout(
        () =>
          new Promise((r) =>
            setTimeout(() => {
              r('late');
            }, 30),
          ),
        Infinity,
        'x',
      ),
    ).resolves.toBe('late');
  });
});
