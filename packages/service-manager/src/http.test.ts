import { afterEach, describe, expect, it } from 'vitest';
import { serveHealth, type HealthServer } from './http.js';
import { ServiceManager } from './service-manager.js';
import type { ServiceHealth } from './types.js';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function manager(health: () => ServiceHealth | Promise<ServiceHealth> = () => ({ status: 'healthy' })) {
  return new ServiceManager().register({ name: 'db', useValue: { start() {}, stop() {}, healthCheck: health } }).register({
    name: 'cache',
    useValue: {
      start() {
        throw new Error('no cache');
      },
      stop() {},
    },
    critical: false,
  });
}

describe('health endpoints', () => {
  it('binds to 127.0.0.1 by default and answers /livez while the process is not shutting down', async () => {
    const m = manager();
    server = await serveHealth(m);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${server.url}/livez`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    await m.stopAll();
    expect((await fetch(`${server.url}/livez`)).status).toBe(503);
  });

  it('answers /readyz 503 while a critical service runs but is unhealthy, so traffic is routed away', async () => {
    let status: ServiceHealth['status'] = 'healthy';
    const m = manager(() => ({ status, checks: { connection: status === 'healthy' } }));
    server = await serveHealth(m);
    await m.startAll();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    status = 'unhealthy';
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unhealthy', ready: false });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503); // an alias of readiness
    status = 'degraded';
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200); // degraded still serves
    await m.stopAll();
  });

  it('lists every service and check with ?verbose', async () => {
    const m = manager(() => ({ status: 'healthy', checks: { connection: true, disk: false } }));
    server = await serveHealth(m);
    await m.startAll();
    const res = await fetch(`${server.url}/readyz?verbose`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const lines = (await res.text()).trim().split('\n');
    expect(lines).toEqual([
      '[+]db healthy (running, critical)',
      '[+]db/connection ok',
      '[-]db/disk failed',
      '[-]cache unhealthy (failed): no cache',
      'readyz check passed: degraded',
    ]);
    await m.stopAll();
  });

  it('runs one round of health checks for a burst of concurrent probes', async () => {
    let checks = 0;
    const m = manager(async () => {
      checks++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { status: 'healthy' } as const;
    });
    server = await serveHealth(m);
    await m.startAll();
    const responses = await Promise.all(Array.from({ length: 20 }, () => fetch(`${server!.url}/readyz`)));
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(checks).toBe(1);
    await m.stopAll();
  });

  it('answers /readyz (and /healthz) with 503 before start and 200 with the JSON health body once ready', async () => {
    const m = manager();
    server = await serveHealth(m);
    const before = await fetch(`${server.url}/readyz`);
    expect(before.status).toBe(503);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
    await m.startAll();
    const after = await fetch(`${server.url}/readyz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({
      status: 'degraded',
      ready: true,
      services: { db: { status: 'healthy' }, cache: { state: 'failed' } },
    });
  });

  it('serves Prometheus metrics: states, startup times, health', async () => {
    const m = manager();
    await m.startAll();
    await m.health();
    server = await serveHealth(m);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('pm_service_up{service="db",critical="true"} 1');
    expect(text).toContain('pm_service_up{service="cache",critical="false"} 0');
    expect(text).toContain('pm_service_state{service="cache",state="failed"} 1');
    expect(text).toMatch(/pm_service_startup_seconds\{service="db"\} [\d.e-]+/);
    expect(text).toContain('pm_service_health{service="db"} 1');
    expect(text).toContain('pm_service_ready 1');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    server = await serveHealth(manager());
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    const post = await fetch(`${server.url}/readyz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
