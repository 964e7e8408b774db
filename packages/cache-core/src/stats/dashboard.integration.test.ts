/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * it loads without console errors, its figures match `/metrics`, it follows the cache live, and
 * it shows a key's text as text. A screenshot is kept in `artifacts/dashboard.png`.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveHealth, ServiceManager, type HealthServer } from '@pm/service-manager';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerCacheService } from '../cache-service.js';
import { SharedPromptCache } from '../shared-prompt-cache.js';
import { FileStore } from '../stores/file-store.js';

const CHROMIUM = process.env.PM_CHROMIUM ?? '/usr/bin/chromium';
const enabled = existsSync(CHROMIUM);
if (!enabled) {
  if (process.env.CI === 'true') throw new Error(`the dashboard test needs Chromium at ${CHROMIUM} under CI (apt-get install -y chromium)`);
  console.warn(`\n  SKIPPED dashboard in Chromium: no browser at ${CHROMIUM} (apt-get install -y chromium)\n`);
}
const artifacts = fileURLToPath(new URL('../../../../artifacts/', import.meta.url));

/** Sum of every series of `name` in a Prometheus text. */
function total(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe.runIf(enabled)('/dashboard in Chromium', () => {
  let manager: ServiceManager;
  let cache: SharedPromptCache;
  let server: HealthServer;
  let browser: Browser;
  let page: Page;
  let dir: string;
  const problems: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pm-dashboard-'));
    manager = new ServiceManager();
    cache = new SharedPromptCache({ l2: new FileStore({ dir }) });
    registerCacheService(manager, undefined, { cache });
    await manager.startAll();
    server = await serveHealth(manager);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
  }, 60_000);
  afterAll(async () => {
    await browser.close();
    await server.close();
    await manager.stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  const shown = async (testId: string) => (await page.locator(`[data-testid=${testId}]`).first().textContent()) ?? '';
  const metrics = async () => (await fetch(`${server.url}/metrics`)).text();

  it('loads without errors and shows the services, the tiers and the figures /metrics has', async () => {
    await cache.set('task_prompt:a', 'x');
    for (let i = 0; i < 5; i++) await cache.get('task_prompt:a');
    await cache.get('agent_profile:missing');
    await page.goto(`${server.url}/dashboard`);
    await vi.waitFor(
      async () => {
        expect(await shown('hits')).toBe('5');
      },
      { timeout: 5000, interval: 50 },
    );
    const text = await metrics();
    expect(Number(await shown('hits'))).toBe(total(text, 'pm_cache_hits_total'));
    expect(Number(await shown('misses'))).toBe(total(text, 'pm_cache_misses_total'));
    expect(await shown('hit-rate')).toBe('83.3%');
    expect(await page.locator('[data-testid="service-shared_prompt_cache"]').textContent()).toContain('running');
    expect(await page.locator('[data-testid=tier-l2]').textContent()).toContain('circuit closed');
    expect(problems).toEqual([]);
  });

  it('follows the cache live: hits, entries and invalidations appear within seconds', async () => {
    const before = Number(await shown('hits'));
    for (let i = 0; i < 20; i++) cache.getSync('task_prompt:a');
    cache.setSync('task_prompt:b', 'y');
    await cache.invalidate('task_prompt:b');
    await vi.waitFor(
      async () => {
        expect(Number(await shown('hits'))).toBe(before + 20);
      },
      { timeout: 5000, interval: 50 },
    );
    expect(Number(await shown('hits'))).toBe(total(await metrics(), 'pm_cache_hits_total'));
    await vi.waitFor(
      async () => {
        expect(await page.locator('.invalidations').first().textContent()).toContain('task_prompt:b');
      },
      {
        timeout: 5000,
      },
    );
    expect(problems).toEqual([]);
  });

  it('shows markup from keys as text, never as HTML', async () => {
    const hostile = '<img src=x onerror="document.title=`pwned`">';
    cache.setSync(`${hostile}:k`, 'v');
    await vi.waitFor(
      async () => {
        expect(await page.locator('.namespaces').first().textContent()).toContain(hostile);
      },
      { timeout: 5000 },
    );
    expect(await page.locator('.namespaces img').count()).toBe(0);
    expect(await page.title()).toBe('@pm dashboard');
    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
