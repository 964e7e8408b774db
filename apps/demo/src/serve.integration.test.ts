/**
 * `pnpm demo --serve` with three processes on a real Redis, which is killed and restarted: the
 * dashboard (in Chromium) and /metrics show the outage and the recovery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RedisProcess, redisTestsEnabled } from '@pm/cache-core/testing';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const tsx = createRequire(import.meta.url).resolve('tsx');
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const artifacts = fileURLToPath(new URL('../../../artifacts/', import.meta.url));
const CHROMIUM = process.env.PM_CHROMIUM ?? '/usr/bin/chromium';
const enabled = await redisTestsEnabled('demo --serve on Redis');
if (!existsSync(CHROMIUM) && process.env.CI === 'true') throw new Error(`Chromium is required under CI at ${CHROMIUM}`);

/** The value of the series `name{labels}` (labels as printed, in order) in a Prometheus text. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.runIf(enabled)('pnpm demo --serve: three processes on Redis through an outage', () => {
  let redis: RedisProcess;
  let demo: ChildProcess;
  let browser: Browser | undefined;
  let out = '';
  beforeAll(async () => {
    redis = await RedisProcess.start();
    demo = spawn(
      process.execPath,
      [
        '--import',
        tsx,
        main,
        '--serve',
        '--store',
        'redis',
        '--redis-url',
        redis.url,
        '--workers',
        '3',
        '--contexts',
        '3',
        '--requests',
        '100',
        '--delegations',
        '2',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    demo.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await vi.waitFor(
      () => {
        expect(out).toMatch(/serving: {3}3 process\(es\)/);
      },
      { timeout: 90_000, interval: 100 },
    );
    if (existsSync(CHROMIUM)) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    if (demo.exitCode === null) demo.kill('SIGKILL');
    await redis.stop();
  });

  it('shows the outage and the recovery in /metrics and on the dashboard, and stops cleanly', async () => {
    const url = /dashboard: (\S+)\/dashboard/.exec(out)![1]!;
    const pids = /pids ([\d, ]+)\)/.exec(out)![1]!.split(', ').map(Number);
    expect(pids).toHaveLength(3);
    const metrics = async () => (await fetch(`${url}/metrics`)).text();
    const tiers = async () =>
      ((await (await fetch(`${url}/dashboard/data`)).json()) as { panels: { data: { tiers: { kind: string; state: string }[] } }[] })
        .panels[0]!.data.tiers;
    const c = 'cache="shared_prompt_cache"';
    expect(sample(await metrics(), 'pm_cache_l2_circuit_state', `${c},store="redis",state="closed"`)).toBe(1);

    await redis.kill9();
    let text = '';
    await vi.waitFor(
      async () => {
        text = await metrics();
        expect(sample(text, 'pm_cache_l2_circuit_state', `${c},store="redis",state="open"`)).toBe(1);
        expect(sample(text, 'pm_cache_bus_connected', `${c},bus="redis-bus"`)).toBe(0);
        expect(sample(text, 'pm_cache_replay_pending', `${c},store="redis"`)).toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(sample(text, 'pm_cache_tier_errors_total', `${c},tier="l2"`)).toBeGreaterThan(0);
    expect((await tiers()).find((t) => t.kind === 'l2')?.state).toBe('circuit open');
    await vi.waitFor(
      async () => {
        const health = (await (await fetch(`${url}/readyz`)).json()) as { services: Record<string, { status: string }> };
        expect(health.services.shared_prompt_cache?.status).toBe('degraded');
      },
      { timeout: 10_000 },
    );
    if (browser !== undefined) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
      await page.goto(`${url}/dashboard`);
      await vi.waitFor(
        async () => {
          expect(await page.locator('[data-testid=tier-l2]').textContent()).toContain('circuit open');
        },
        {
          timeout: 5000,
        },
      );
      await mkdir(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'dashboard-redis-down.png'), fullPage: true });
      await page.close();
    }
    expect(pids.every(alive)).toBe(true); // the processes keep serving from L1

    await redis.restart();
    await vi.waitFor(
      async () => {
        text = await metrics();
        expect(sample(text, 'pm_cache_l2_circuit_state', `${c},store="redis",state="closed"`)).toBe(1);
        expect(sample(text, 'pm_cache_bus_connected', `${c},bus="redis-bus"`)).toBe(1);
        expect(sample(text, 'pm_cache_replay_pending', `${c},store="redis"`)).toBe(0);
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(sample(text, 'pm_cache_replay_replayed_total', `${c},store="redis"`)).toBeGreaterThan(0);
    expect(sample(text, 'pm_cache_l2_circuit_trips_total', `${c},store="redis"`)).toBeGreaterThanOrEqual(1);
    expect((await tiers()).find((t) => t.kind === 'l2')?.state).toBe('circuit closed');

    const exited = new Promise<number | null>((resolve) => demo.once('exit', resolve));
    demo.kill('SIGTERM');
    expect(await exited).toBe(0);
    await vi.waitFor(
      () => {
        expect(pids.filter(alive)).toEqual([]);
      },
      { timeout: 10_000 },
    );
  }, 90_000);
});
