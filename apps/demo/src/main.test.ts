import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tsx = createRequire(import.meta.url).resolve('tsx');
const main = fileURLToPath(new URL('./main.ts', import.meta.url));

async function demo(...args: string[]) {
  return run(process.execPath, ['--import', tsx, main, ...args], { encoding: 'utf8', timeout: 60_000 });
}

interface LlmSummary {
  delegations: number;
  tokensPerDelegation: number;
  cacheableShare: number;
  projectedInputCostReduction: number;
  prices: Record<string, unknown>;
  responseCache: { requests: number; distinct: number; modelCalls: number; hitRate: number };
}

describe('the demo, end to end', () => {
  it('builds and delegates prompts cold and warm through the services and prints a JSON summary last', async () => {
    const { stdout } = await demo('--contexts', '2', '--requests', '40', '--delegations', '2', '--json');
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      improvementPercent: number;
      hitRate: number;
      coldMs: number;
      warmMs: number;
      delegation: { coldMs: number; warmMs: number };
      health: string;
      llm: LlmSummary;
    };
    expect(summary).toMatchObject({ hitRate: 1, health: 'healthy' });
    // The demo's agents carry a project brief in their prefix: long enough for Sonnet's 1024-token minimum.
    expect(summary.llm.delegations).toBe(40);
    expect(summary.llm.tokensPerDelegation).toBeGreaterThan(1024);
    expect(summary.llm.cacheableShare).toBeGreaterThan(0.8);
    expect(summary.llm.projectedInputCostReduction).toBeGreaterThan(0.5);
    expect(summary.llm.prices).toMatchObject({ model: 'claude-sonnet-4-6', input: 3, cacheWrite: 3.75, cacheRead: 0.3 });
    // Each distinct prompt goes to the model once; the repeats are answered by the response cache.
    const { requests, distinct, modelCalls } = summary.llm.responseCache;
    expect(requests).toBe(40);
    expect(distinct).toBeGreaterThan(1);
    expect(distinct).toBeLessThan(40);
    expect(modelCalls).toBe(distinct);
    expect(summary.coldMs).toBeGreaterThan(summary.warmMs);
    expect(summary.improvementPercent).toBeGreaterThan(0);
    expect(summary.delegation.coldMs).toBeGreaterThan(0);
    expect(summary.delegation.warmMs).toBeGreaterThan(0);
    for (const row of ['profile load', 'task prompt build', 'delegation prompt', 'delegation: prompt ready in child'])
      expect(stdout).toContain(row);
    expect(stdout).toMatch(/services running: shared_prompt_cache .*, prompt_builder .*, pm_orchestrator/);
  }, 60_000);

  it('shares one cache between worker processes through a FileStore', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pm-demo-store-'));
    try {
      const { stdout } = await demo(
        '--contexts',
        '2',
        '--requests',
        '30',
        '--delegations',
        '1',
        '--store',
        'file',
        '--dir',
        dir,
        '--workers',
        '2',
        '--json',
      );
      const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        store: string;
        workers: { worker: number; hitRate: number; l2Misses: number }[];
      };
      expect(summary.store).toBe('file');
      expect(summary.workers).toHaveLength(1);
      expect(summary.workers[0]).toMatchObject({ worker: 1, hitRate: 1, l2Misses: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it.runIf(process.env.PM_REDIS_URL !== undefined)(
    'shares one cache between worker processes through Redis',
    async () => {
      const { stdout } = await demo(
        '--contexts',
        '2',
        '--requests',
        '30',
        '--delegations',
        '1',
        '--store',
        'redis',
        '--redis-url',
        process.env.PM_REDIS_URL!,
        '--workers',
        '2',
        '--json',
      );
      const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        store: string;
        health: string;
        workers: { hitRate: number; l2Misses: number }[];
      };
      expect(summary).toMatchObject({ store: 'redis', health: 'healthy' });
      expect(summary.workers[0]).toMatchObject({ hitRate: 1, l2Misses: 0 });
    },
    90_000,
  );

  it('runs on a directory of Claude Code agents with --agents, reporting the cost of a new task', async () => {
    const agents = fileURLToPath(new URL('../examples/claude-agents', import.meta.url));
    const { stdout } = await demo('--agents', agents, '--contexts', '2', '--requests', '20', '--delegations', '1', '--json');
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      agents: number;
      coldMs: number;
      warmMs: number;
      newTaskMs: number;
      health: string;
      llm: LlmSummary;
    };
    expect(summary).toMatchObject({ agents: 4, health: 'healthy' });
    // These published agents are short: their prefixes stay under the minimum, paid in full.
    expect(summary.llm.tokensPerDelegation).toBeLessThan(1024);
    expect(summary.llm).toMatchObject({ cacheableShare: 0, projectedInputCostReduction: 0 });
    expect(summary.newTaskMs).toBeGreaterThan(0);
    expect(summary.newTaskMs).toBeLessThan(summary.coldMs);
    expect(stdout).toContain(`4 agents × 2 task contexts`);
  }, 60_000);

  it('refuses --workers without a store the processes can share', async () => {
    const failure = await demo('--workers', '2').catch((error: unknown) => error as { code: number; stderr: string });
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('--workers needs a cache the processes can share');
  }, 60_000);

  it('rejects a bad argument with a clear message and exit code 1', async () => {
    const failure = await demo('--requests', 'lots').catch((error: unknown) => error as { code: number; stderr: string });
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('--requests must be a positive integer, got "lots"');
  }, 60_000);
});
