import { describe, expect, it, vi } from 'vitest';
import { RecordingService } from './fixtures/recording-service.js';
import { ServiceManager } from './service-manager.js';
import { backoffDelay, TimeLimit, withTimeout } from './timing.js';
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
    await expect(withTimeout(() => resolvesAfter(30, 'late'), Infinity, 'x')).resolves.toBe('late');
  });

  it('TimeLimit maps the outcome once: the value, the rejection, or the timeout (and never both)', async () => {
    const outcomes: string[] = [];
    const map = (bound: number, work: () => unknown) =>
      new TimeLimit(bound).settle(
        work,
        'probe',
        (value) => {
          outcomes.push(`value ${String(value)}`);
          return 'ok';
        },
        (error) => {
          outcomes.push(`${(error as Error).name}: ${(error as Error).message}`);
          return 'failed';
        },
      );
    await expect(map(50, () => 1)).resolves.toBe('ok');
    await expect(map(50, () => Promise.reject(new Error('refused')))).resolves.toBe('failed');
    await expect(
      map(10, () => {
        throw new Error('sync');
      }),
    ).resolves.toBe('failed');
    let finish: (value: string) => void = () => undefined;
    await expect(map(10, () => new Promise((resolve) => (finish = resolve)))).resolves.toBe('failed');
    finish('late');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(outcomes).toEqual([
      'value 1',
      'Error: refused',
      'Error: sync',
      'ServiceTimeoutError: [service-manager] probe did not finish within 10 ms',
    ]);
    const throwing = new TimeLimit(50).settle(
      () => 1,
      'x',
      () => {
        throw new Error('mapper');
      },
      () => 'unused',
    );
    await expect(throwing).rejects.toThrow('mapper');
  });

  it('TimeLimit bounds every call by its own start with one timer, and lets the others finish', async () => {
    const limit = new TimeLimit(100);
    const never = () => new Promise<string>(() => undefined);
    const outcome = (started: number) =>
      [
        (value: string) => value,
        (error: unknown) => `${(error as Error).name} after ${Math.round(performance.now() - started)} ms`,
      ] as const;
    const startA = performance.now();
    const a = limit.settle(never, 'a', ...outcome(startA));
    // Many calls that settle at once, between two that hang: they neither wait for the timer nor keep it.
    const quick = await Promise.all(Array.from({ length: 1000 }, (_, i) => limit.settle(() => `q${i}`, 'q', ...outcome(startA))));
    expect(quick.at(-1)).toBe('q999');
    await new Promise((resolve) => setTimeout(resolve, 40));
    const startB = performance.now();
    const b = limit.settle(never, 'b', ...outcome(startB));
    const slowButInTime = limit.settle(() => resolvesAfter(20, 'in time'), 'c', ...outcome(startB));
    const [resultA, resultB, resultC] = await Promise.all([a, b, slowButInTime]);
    expect(resultC).toBe('in time');
    // Each hung call expires its limit after its own start: B not with A (at 60 ms of its own), nor a whole limit after A (at 160).
    for (const result of [resultA, resultB]) {
      expect(result).toMatch(/^ServiceTimeoutError after \d+ ms$/);
      const elapsed = Number(/after (\d+)/.exec(result)?.[1]);
      expect(elapsed).toBeGreaterThanOrEqual(99);
      expect(elapsed).toBeLessThan(130);
    }
  });

  it('withTimeout clears its timer when the work settles; a shared TimeLimit lets one lapse', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      await withTimeout(() => 'done', 60_000, 'quick');
      await expect(withTimeout(() => Promise.reject(new Error('no')), 60_000, 'failing')).rejects.toThrow('no');
      expect(vi.getTimerCount()).toBe(0);
      const shared = new TimeLimit(60_000);
      for (let i = 0; i < 100; i++) await shared.settle(() => i, 'x', String, String);
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(60_000);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

function resolvesAfter<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) =>
    setTimeout(() => {
      resolve(value);
    }, ms),
  );
}
