/**
 * Exact dependents across processes: a process watching the prompt sources and another one
 * sharing its cache through Redis. An edited component drops exactly the entries built from it,
 * in both processes; entries built from other files stay cached.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SharedPromptCache } from '@pm/cache-core';
import { RedisInvalidationBus, RedisStore } from '@pm/cache-core/redis';
import { RedisProcess, redisTestsEnabled } from '@pm/cache-core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentPromptBuilder } from './agent-prompt-builder.js';
import { makeTree, profile } from './fixtures/tree.js';

const enabled = await redisTestsEnabled('exact dependents across processes');
let redis: RedisProcess;
beforeAll(async () => {
  if (enabled) redis = await RedisProcess.start();
}, 30_000);
afterAll(async () => {
  if (enabled) await redis.stop();
});

const cacheOn = (url: string, id: string) =>
  new SharedPromptCache({
    l2: new RedisStore({ url, keyPrefix: `pm-dep-${id}:` }),
    bus: new RedisInvalidationBus({ url, channel: `pm-dep-${id}` }),
  });

describe.runIf(enabled)('an edited component', () => {
  it('drops exactly its dependents, here and in another process', async () => {
    const tree = await makeTree({
      'project/.pm/agents/qa.md': profile('qa', 'd', 'QA body', 'components: [shared/style]\n'),
      'project/.pm/agents/ops.md': profile('ops', 'd', 'Ops body', 'components: [shared/other]\n'),
      'project/.pm/components/shared/style.md': 'Style v1',
      'project/.pm/components/shared/other.md': 'Other v1',
    });
    const id = `${process.pid}`;
    const dirs = { projectDir: path.join(tree.root, 'project'), userDir: path.join(tree.root, 'home') };
    const cache = cacheOn(redis.url, id);
    await cache.start();
    const builder = new AgentPromptBuilder({ ...dirs, cache });
    builder.watch();
    await builder.watching();
    // The other process builds both agents' prompts, then reports what its L1 holds, on request.
    const script = `
      const { SharedPromptCache } = await import('@pm/cache-core');
      const { RedisStore, RedisInvalidationBus } = await import('@pm/cache-core/redis');
      const { AgentPromptBuilder } = await import(${JSON.stringify(new URL('./agent-prompt-builder.ts', import.meta.url).href)});
      const [url, id, dirs] = process.argv.slice(1);
      const cache = new SharedPromptCache({ l2: new RedisStore({ url, keyPrefix: 'pm-dep-' + id + ':' }), bus: new RedisInvalidationBus({ url, channel: 'pm-dep-' + id }) });
      await cache.start();
      const builder = new AgentPromptBuilder({ ...JSON.parse(dirs), cache });
      await builder.buildTaskToolPrompt('qa', { task: 'release' });
      await builder.buildTaskToolPrompt('ops', { task: 'release' });
      const keys = () => cache.getCacheInfo().entries.map((e) => e.key.split(':')[0] + ':' + e.key.split(':')[1]).sort();
      process.stdout.write(JSON.stringify(keys()) + '\\n');
      for await (const line of (await import('node:readline')).createInterface({ input: process.stdin })) {
        if (line === 'exit') break;
        process.stdout.write(JSON.stringify(keys()) + '\\n');
      }
      await cache.stop();
      process.exit(0);
    `;
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', script, redis.url, id, JSON.stringify(dirs)], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => JSON.parse(((await lines.next()).value as string | undefined) ?? '[]') as string[];
    try {
      const before = await next();
      expect(before).toEqual(
        expect.arrayContaining([
          'task_prompt:qa',
          'task_prompt:ops',
          'prompt_prefix:qa',
          'prompt_prefix:ops',
          'agent_profile:qa',
          'agent_profile:ops',
        ]),
      );
      // This process builds them too (from L2: nothing computed twice).
      await builder.buildTaskToolPrompt('qa', { task: 'release' });
      const ops = await builder.buildTaskToolPrompt('ops', { task: 'release' });
      await tree.write('project/.pm/components/shared/style.md', 'Style v2');
      await vi.waitFor(
        async () => {
          child.stdin.write('check\n');
          const after = await next();
          expect(after).not.toContain('task_prompt:qa');
          expect(after).not.toContain('prompt_prefix:qa');
        },
        { timeout: 5000, interval: 50 },
      );
      child.stdin.write('check\n');
      const after = await next();
      expect(after).toEqual(expect.arrayContaining(['task_prompt:ops', 'prompt_prefix:ops', 'agent_profile:qa', 'agent_profile:ops']));
      expect(await builder.buildTaskToolPrompt('ops', { task: 'release' })).toBe(ops); // still cached here too
      expect((await builder.buildTaskToolPrompt('qa', { task: 'release' })).prefix).toContain('Style v2');
    } finally {
      child.stdin.end('exit\n');
      await new Promise((resolve) => child.once('exit', resolve));
      await builder.stop();
      await cache.stop();
      await tree.remove();
    }
  }, 60_000);
});
