/**
 * `/metrics` of a service manager running the cache on a real Redis: every tier's series, valid
 * for `promtool check metrics`, and an outage (kill -9, restart) visible in them.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { ServiceManager } from '@pm/service-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisInvalidationBus } from '../bus/redis-bus.js';
import { registerCacheService } from '../cache-service.js';
import { SharedPromptCache } from '../shared-prompt-cache.js';
import { RedisStore } from '../stores/redis-store.js';
import { RedisProcess, redisTestsEnabled } from '../testing/redis-server.js';

const run = promisify(execFile);
const enabled = await redisTestsEnabled('Prometheus metrics on Redis');
const promtool = await run('promtool', ['--version']).then(
  () => true,
  () => {
    if (process.env.CI === 'true') throw new Error('promtool is required under CI (apt-get install -y prometheus)');
    console.warn('\n  SKIPPED promtool check: promtool is not installed (apt-get install -y prometheus)\n');
    return false;
  },
);

/** Runs `promtool check metrics` on `text`; resolves its exit code and output. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('promtool', ['check', 'metrics']);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => {
      resolve({ code, output });
    });
    child.stdin.end(text);
  });
}

/** The value of the series `name{labels}` (labels as printed, in order), or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe.runIf(enabled)('Prometheus metrics of the cache service on Redis', () => {
  let redis: RedisProcess;
  let manager: ServiceManager;
  let cache: SharedPromptCache;
  beforeAll(async () => {
    redis = await RedisProcess.start();
    manager = new ServiceManager();
    cache = new SharedPromptCache({
      l2: new RedisStore({ url: redis.url, keyPrefix: 'pm-prom:', commandTimeoutMs: 200 }),
      bus: new RedisInvalidationBus({ url: redis.url, channel: 'pm-prom', commandTimeoutMs: 200 }),
      tierTimeout: 300,
    });
    registerCacheService(manager, undefined, { cache, healthCheckInterval: '200ms' });
    await manager.startAll();
  }, 30_000);
  afterAll(async () => {
    await manager.stopAll();
    await redis.stop();
  });

  it('exports every tier: hits, misses, errors, latency histograms, circuit, bus, replays, locks, services', async () => {
    await cache.set('task_prompt:a', 'x');
    for (let i = 0; i < 600; i++) cache.getSync('task_prompt:a'); // L1 hits
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 3));
      cache.getSync('task_prompt:a'); // the first read of a millisecond is timed
    }
    await cache.get('task_prompt:missing');
    await cache.getOrCompute('task_prompt:b', () => 'computed');
    await cache.invalidate('task_prompt:*');
    const text = await manager.metricsRegistry.metrics();
    const c = 'cache="shared_prompt_cache"';
    expect(sample(text, 'pm_cache_tier_hits_total', `${c},tier="l1"`)).toBeGreaterThanOrEqual(600);
    // Store reads that found nothing: the missing key once; the computed key twice (a plain read,
    // then the re-read that takes the lock in the same round trip), and no third after the lock.
    expect(sample(text, 'pm_cache_tier_misses_total', `${c},tier="l2"`)).toBe(3);
    expect(sample(text, 'pm_cache_tier_errors_total', `${c},tier="l2"`)).toBe(0);
    expect(sample(text, 'pm_cache_l2_circuit_state', `${c},store="redis",state="closed"`)).toBe(1);
    expect(sample(text, 'pm_cache_bus_messages_total', `${c},bus="redis-bus",direction="published",type="invalidate"`)).toBe(1);
    expect(sample(text, 'pm_cache_bus_connected', `${c},bus="redis-bus"`)).toBe(1);
    expect(sample(text, 'pm_cache_replay_pending', `${c},store="redis"`)).toBe(0);
    expect(sample(text, 'pm_cache_lock_waits_total', `${c},store="redis"`)).toBe(0);
    expect(text).toContain('# TYPE pm_cache_operation_duration_seconds histogram');
    expect(sample(text, 'pm_cache_operation_duration_seconds_count', `${c},tier="l1",operation="get"`)).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'pm_cache_operation_duration_seconds_bucket', `${c},tier="l2",operation="get",le="+Inf"`)).toBe(
      sample(text, 'pm_cache_operation_duration_seconds_count', `${c},tier="l2",operation="get"`),
    );
    expect(sample(text, 'pm_service_state', 'service="shared_prompt_cache",state="running"')).toBe(1);
    if (promtool) expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
  });

  it('shows an outage and the recovery: tier errors, circuit open then closed, replays queued then carried out', async () => {
    const c = 'cache="shared_prompt_cache"';
    await cache.set('task_prompt:x', 'v1');
    await redis.kill9();
    // Reads and an invalidation while Redis is gone: errors, then the circuit opens; the removal waits.
    for (let i = 0; i < 5; i++) await cache.get(`task_prompt:gone-${i}`);
    await cache.invalidate('task_prompt:*');
    let text = await manager.metricsRegistry.metrics();
    expect(sample(text, 'pm_cache_tier_errors_total', `${c},tier="l2"`)).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'pm_cache_l2_circuit_state', `${c},store="redis",state="open"`)).toBe(1);
    expect(sample(text, 'pm_cache_replay_pending', `${c},store="redis"`)).toBeGreaterThanOrEqual(1);
    await vi.waitFor(async () => {
      expect(sample(await manager.metricsRegistry.metrics(), 'pm_service_health', 'service="shared_prompt_cache"')).toBe(0.5);
    });
    await redis.restart();
    await vi.waitFor(
      async () => {
        text = await manager.metricsRegistry.metrics();
        expect(sample(text, 'pm_cache_l2_circuit_state', `${c},store="redis",state="closed"`)).toBe(1);
        expect(sample(text, 'pm_cache_replay_pending', `${c},store="redis"`)).toBe(0);
        expect(sample(text, 'pm_cache_bus_connected', `${c},bus="redis-bus"`)).toBe(1);
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(sample(text, 'pm_cache_replay_replayed_total', `${c},store="redis"`)).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'pm_cache_l2_circuit_trips_total', `${c},store="redis"`)).toBeGreaterThanOrEqual(1);
    if (promtool) expect((await promtoolCheck(text)).code).toBe(0);
  }, 30_000);
});
