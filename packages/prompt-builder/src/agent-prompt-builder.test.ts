import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CacheStoreError, makeCacheKey, SharedPromptCache } from '@pm/cache-core';
import type { Logger } from '@pm/service-manager/contract';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AgentPromptBuilder } from './agent-prompt-builder.js';
import { ProfileError, ProfileNotFoundError, PromptBuilderError, TemplateError } from './errors.js';
import { makeTree, profile } from './fixtures/tree.js';

const trees: { remove: () => Promise<void> }[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const close of cleanups.splice(0)) close();
  await Promise.all(trees.splice(0).map((t) => t.remove()));
});

/** A project, a user home and a system directory, each a real directory tree. */
async function setup(files: { project?: Record<string, string>; user?: Record<string, string>; system?: Record<string, string> } = {}) {
  const tree = await makeTree({
    'system/components/task.md': '## Task\n\n{task}\n\n{requirements}\n\nPriority: {priority}\n',
    'system/agents/general.md': profile('general', 'System general agent'),
    ...prefixed('project/.pm/', files.project),
    ...prefixed('home/.pm/', files.user),
    ...prefixed('system/', files.system),
  });
  trees.push(tree);
  const dirs = {
    projectDir: path.join(tree.root, 'project'),
    userDir: path.join(tree.root, 'home'),
    systemDir: path.join(tree.root, 'system'),
  };
  return { tree, dirs };
}

function prefixed(prefix: string, files: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([file, text]) => [prefix + file, text]));
}

const quietLogger = (): Logger & { warnings: unknown[] } => {
  const warnings: unknown[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (obj) => warnings.push(obj) };
};

describe('loadAgentProfile', () => {
  it('prefers project over user over system profiles', async () => {
    const { tree, dirs } = await setup({
      project: { 'agents/qa.md': profile('qa', 'project qa') },
      user: { 'agents/qa.md': profile('qa', 'user qa'), 'agents/ops.md': profile('ops', 'user ops') },
      system: { 'agents/qa.md': profile('qa', 'system qa') },
    });
    const builder = new AgentPromptBuilder(dirs);
    expect(await builder.loadAgentProfile('qa')).toMatchObject({ description: 'project qa', source: { tier: 'project' } });
    expect(await builder.loadAgentProfile('ops')).toMatchObject({ description: 'user ops', source: { tier: 'user' } });
    expect(await builder.loadAgentProfile('general')).toMatchObject({ source: { tier: 'system' } });
    await rm(path.join(tree.root, 'project/.pm/agents/qa.md'));
    expect(await builder.loadAgentProfile('qa')).toMatchObject({ description: 'user qa' });
  });

  it('caches profiles as agent_profile:<name>:<project>', async () => {
    const { tree, dirs } = await setup({ project: { 'agents/qa.md': profile('qa', 'v1') } });
    const cache = new SharedPromptCache();
    const builder = new AgentPromptBuilder({ ...dirs, cache });
    await builder.loadAgentProfile('qa');
    await tree.write('project/.pm/agents/qa.md', profile('qa', 'v2'));
    expect((await builder.loadAgentProfile('qa')).description).toBe('v1');
    const entry = cache.getCacheInfo().entries.find((e) => e.key.startsWith('agent_profile:'))!;
    expect(entry.key).toBe(`agent_profile:qa:${dirs.projectDir}`);
    expect(entry.ttlMs).toBe(30 * 60_000);
    expect(await builder.invalidateCache('qa')).toBe(1);
    expect((await builder.loadAgentProfile('qa')).description).toBe('v2');
  });

  it('reports a missing profile with every directory it searched, and a bad one by file and field', async () => {
    const { dirs } = await setup({ project: { 'agents/bad.md': '---\nname: bad\ndescription: d\ntools: 7\n---\nbody' } });
    const builder = new AgentPromptBuilder(dirs);
    await expect(builder.loadAgentProfile('nobody')).rejects.toBeInstanceOf(ProfileNotFoundError);
    await expect(builder.loadAgentProfile('nobody')).rejects.toThrow(
      /looked in .*project\/\.pm\/agents, .*home\/\.pm\/agents, .*system\/agents/,
    );
    await expect(builder.loadAgentProfile('bad')).rejects.toThrow(ProfileError);
    await expect(builder.loadAgentProfile('bad')).rejects.toThrow(/bad\.md: front matter field "tools" must be a list of strings/);
    await expect(builder.loadAgentProfile('../etc/passwd')).rejects.toBeInstanceOf(PromptBuilderError);
  });
});

describe('buildTaskToolPrompt', () => {
  const qa = profile(
    'qa',
    'Finds bugs',
    '# {agent} agent on {project}\n\n{description} ({team})',
    'rules: [Reproduce first, Minimise the case]\ncomponents: [shared/style]\nvariables: { team: core }\n',
  );

  it('builds a byte-identical prefix for every task of an agent and puts the task in the suffix', async () => {
    const { dirs } = await setup({ project: { 'agents/qa.md': qa, 'components/shared/style.md': 'Write for {agent}s.' } });
    const builder = new AgentPromptBuilder(dirs);
    const a = await builder.buildTaskToolPrompt('qa', { task: 'Test login', requirements: ['no flakiness'] });
    const b = await builder.buildTaskToolPrompt('qa', { task: 'Test billing', priority: 'high' });
    expect(a.prefix).toBe(b.prefix);
    expect(a.prefixHash).toBe(createHash('sha256').update(a.prefix).digest('hex'));
    expect(a.prefix).toBe(
      '# qa agent on project\n\nFinds bugs (core)\n\n## Rules\n\n1. Reproduce first\n2. Minimise the case\n\nWrite for qas.\n\n',
    );
    expect(a.suffix).toBe('## Task\n\nTest login\n\n- no flakiness\n\nPriority: medium\n');
    expect(b.suffix).toContain('Priority: high');
    expect(a.text).toBe(a.prefix + a.suffix);
    expect(a.tokenEstimate).toBe(Math.ceil(Buffer.byteLength(a.text) / 4));
  });

  it('caches as task_prompt:<name>:<hash of a stable serialization>', async () => {
    const { dirs } = await setup({ project: { 'agents/qa.md': qa, 'components/shared/style.md': 'x' } });
    const cache = new SharedPromptCache();
    const builder = new AgentPromptBuilder({ ...dirs, cache });
    const first = await builder.buildTaskToolPrompt('qa', { task: 't', requirements: ['r'], priority: 'low' });
    const again = await builder.buildTaskToolPrompt('qa', { priority: 'low', requirements: ['r'], task: 't' });
    expect(again).toBe(first);
    const key = `task_prompt:qa:${makeCacheKey(dirs.projectDir, { task: 't', requirements: ['r'], priority: 'low' })}`;
    expect(cache.getSync(key)).toBe(first);
    expect(cache.getCacheInfo().entries.find((e) => e.key === key)!.ttlMs).toBe(10 * 60_000);
  });

  it('uses the same keys in another process', async () => {
    const { dirs } = await setup({ project: { 'agents/qa.md': qa, 'components/shared/style.md': 'x' } });
    const cache = new SharedPromptCache();
    await new AgentPromptBuilder({ ...dirs, cache }).buildTaskToolPrompt('qa', { task: 'Ship it', variables: { sprint: 7 } });
    const script = `
      const { SharedPromptCache } = await import('@pm/cache-core');
      const { AgentPromptBuilder } = await import(${JSON.stringify(new URL('./agent-prompt-builder.ts', import.meta.url).href)});
      const cache = new SharedPromptCache();
      await new AgentPromptBuilder({ ...${JSON.stringify(dirs)}, cache }).buildTaskToolPrompt('qa', { variables: { sprint: 7 }, task: 'Ship it' });
      process.stdout.write(JSON.stringify(cache.getCacheInfo().entries.map((e) => e.key).sort()));
    `;
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const childKeys = JSON.parse(
      execFileSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { encoding: 'utf8', cwd }),
    ) as string[];
    expect(childKeys).toEqual(
      cache
        .getCacheInfo()
        .entries.map((e) => e.key)
        .sort(),
    );
    expect(childKeys).toHaveLength(4); // profile, component, task template, task prompt
  });

  it('validates the task context', async () => {
    const { dirs } = await setup();
    const builder = new AgentPromptBuilder(dirs);
    await expect(builder.buildTaskToolPrompt('general', { task: '' })).rejects.toThrow(/"task" must be a non-empty string/);
    await expect(builder.buildTaskToolPrompt('general', { task: 'x', requirements: 'all' as never })).rejects.toThrow(
      /"requirements" must be a list of strings/,
    );
    await expect(builder.buildTaskToolPrompt('general', null as never)).rejects.toThrow(/must be an object/);
  });
});

describe('components', () => {
  it('substitutes placeholders, prefers project components, and names a missing variable', async () => {
    const { dirs } = await setup({
      project: { 'components/greeting.md': 'Hi {who} from project' },
      system: { 'components/greeting.md': 'Hi {who} from system', 'components/needs.md': 'Owner: {owner}' },
    });
    const builder = new AgentPromptBuilder(dirs);
    expect(await builder.renderComponent('greeting', { who: 'qa' })).toBe('Hi qa from project');
    const error = await builder.renderComponent('needs', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).variable).toBe('owner');
    expect((error as Error).message).toMatch(/system\/components\/needs\.md: no value for the variable \{owner\}/);
  });

  it('rejects component names that could leave their directory', async () => {
    const { dirs } = await setup();
    const builder = new AgentPromptBuilder(dirs);
    for (const name of ['../secrets', '/etc/passwd', 'a/../../b', 'a\\b', ''])
      await expect(builder.renderComponent(name)).rejects.toBeInstanceOf(PromptBuilderError);
  });

  it('preloads hot components into the cache, keyed by path and context hash', async () => {
    const { dirs } = await setup({ project: { 'components/hot.md': 'Hot {n}' } });
    const cache = new SharedPromptCache();
    const builder = new AgentPromptBuilder({ ...dirs, cache });
    await builder.preloadComponents([
      { name: 'hot', variables: { n: '1' } },
      { name: 'hot', variables: { n: '2' } },
    ]);
    expect(cache.getMetrics().namespaces.prompt_component!.entryCount).toBe(2);
    expect(cache.getSync(`prompt_component:hot:${makeCacheKey(dirs.projectDir, { n: '1' })}`)).toBe('Hot 1');
  });
});

describe('watch()', () => {
  it('serves an edited, an added and a removed profile fresh, not after its TTL', async () => {
    const { tree, dirs } = await setup({
      project: { 'agents/qa.md': profile('qa', 'v1') },
      user: { 'agents/ops.md': profile('ops', 'user ops') },
    });
    const cache = new SharedPromptCache();
    const builder = new AgentPromptBuilder({ ...dirs, cache });
    cleanups.push(builder.watch());
    const changes: string[] = [];
    builder.onChange((c) => changes.push(`${c.kind}:${c.name}`));
    expect((await builder.buildTaskToolPrompt('qa', { task: 't' })).prefix).toContain('You are qa');

    await tree.write('project/.pm/agents/qa.md', profile('qa', 'v2', 'You are the new qa.'));
    await vi.waitFor(
      async () => {
        expect((await builder.buildTaskToolPrompt('qa', { task: 't' })).prefix).toContain('the new qa');
      },
      { timeout: 1000, interval: 5 },
    );

    await tree.write('project/.pm/agents/ops.md', profile('ops', 'project ops'));
    await vi.waitFor(
      async () => {
        expect((await builder.loadAgentProfile('ops')).description).toBe('project ops');
      },
      { timeout: 1000, interval: 5 },
    );

    await rm(path.join(tree.root, 'project/.pm/agents/ops.md'));
    await vi.waitFor(
      async () => {
        expect((await builder.loadAgentProfile('ops')).description).toBe('user ops');
      },
      { timeout: 1000, interval: 5 },
    );
    expect(changes).toEqual(expect.arrayContaining(['profile:qa', 'profile:ops']));
  });

  it('serves prompts built from an edited component fresh', async () => {
    const { tree, dirs } = await setup({
      project: { 'agents/qa.md': profile('qa', 'd', 'Body', 'components: [shared/style]\n'), 'components/shared/style.md': 'Style v1' },
    });
    const builder = new AgentPromptBuilder({ ...dirs, cache: new SharedPromptCache() });
    cleanups.push(builder.watch());
    expect((await builder.buildTaskToolPrompt('qa', { task: 't' })).prefix).toContain('Style v1');
    await tree.write('project/.pm/components/shared/style.md', 'Style v2');
    await vi.waitFor(
      async () => {
        expect((await builder.buildTaskToolPrompt('qa', { task: 't' })).prefix).toContain('Style v2');
      },
      { timeout: 1000, interval: 5 },
    );
  });
});

describe('without a working cache', () => {
  it('works uncached when no cache is given, and says so once', async () => {
    const { tree, dirs } = await setup({ project: { 'agents/qa.md': profile('qa', 'v1') } });
    const logger = quietLogger();
    const builder = new AgentPromptBuilder({ ...dirs, logger });
    await builder.loadAgentProfile('qa');
    await tree.write('project/.pm/agents/qa.md', profile('qa', 'v2'));
    expect((await builder.loadAgentProfile('qa')).description).toBe('v2');
    expect(await builder.invalidateCache()).toBe(0);
    expect(logger.warnings).toHaveLength(1);
  });

  it('falls back to building uncached when the cache throws, warning once', async () => {
    class BrokenCache extends SharedPromptCache {
      override getOrCompute<T>(): Promise<T> {
        return Promise.reject(new CacheStoreError('redis is down'));
      }
      override invalidate(): Promise<number> {
        return Promise.reject(new CacheStoreError('redis is down'));
      }
    }
    const { dirs } = await setup({ project: { 'agents/qa.md': profile('qa', 'v1') } });
    const logger = quietLogger();
    const builder = new AgentPromptBuilder({ ...dirs, cache: new BrokenCache(), logger });
    expect((await builder.buildTaskToolPrompt('qa', { task: 't' })).suffix).toContain('t');
    expect((await builder.loadAgentProfile('qa')).description).toBe('v1');
    expect(await builder.invalidateCache('qa')).toBe(0);
    expect(logger.warnings).toHaveLength(1);
  });

  it('still reports real errors (a bad profile) rather than hiding them behind the fallback', async () => {
    const { dirs } = await setup({ project: { 'agents/qa.md': 'no front matter' } });
    const builder = new AgentPromptBuilder({ ...dirs, cache: new SharedPromptCache() });
    await expect(builder.loadAgentProfile('qa')).rejects.toBeInstanceOf(ProfileError);
  });
});
