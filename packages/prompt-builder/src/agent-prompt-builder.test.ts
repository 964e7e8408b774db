import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCacheKey, SharedPromptCache } from '@pm/cache-core';
import type { Logger } from '@pm/service-manager/contract';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AgentPromptBuilder } from './agent-prompt-builder.js';
import { ProfileError, ProfileNotFoundError, PromptBuilderError, TemplateError } from './errors.js';
import { makeTree, profile, TASK_TEMPLATE } from './fixtures/tree.js';
import { countTokens } from './tokens.js';

const trees: { remove: () => Promise<void> }[] = [];
const builders: AgentPromptBuilder[] = [];
afterEach(async () => {
  await Promise.all(builders.splice(0).map((b) => b.stop()));
  await Promise.all(trees.splice(0).map((t) => t.remove()));
});

/** A project, a user home and a system directory, each a real directory tree. */
async function setup(files: { project?: Record<string, string>; user?: Record<string, string>; system?: Record<string, string> } = {}) {
  const tree = await makeTree({
    'system/components/task.md': TASK_TEMPLATE,
    'system/agents/general.md': profile('general', 'System general agent'),
    ...prefixed('project/', files.project),
    ...prefixed('home/', files.user),
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

function builderOf(options: ConstructorParameters<typeof AgentPromptBuilder>[0]): AgentPromptBuilder {
  const builder = new AgentPromptBuilder(options);
  builders.push(builder);
  return builder;
}

const quietLogger = (): Logger & { warnings: unknown[] } => {
  const warnings: unknown[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (obj) => warnings.push(obj) };
};

describe('loadAgentProfile', () => {
  it('looks in .pm/agents and .claude/agents of the project, then of the user, then the system, then the package', async () => {
    const { tree, dirs } = await setup({
      project: { '.claude/agents/qa.md': profile('qa', 'project claude qa') },
      user: { '.pm/agents/qa.md': profile('qa', 'user qa'), '.claude/agents/ops.md': profile('ops', 'user claude ops') },
      system: { 'agents/qa.md': profile('qa', 'system qa') },
    });
    const builder = builderOf(dirs);
    expect(await builder.loadAgentProfile('qa')).toMatchObject({ description: 'project claude qa', source: { tier: 'project' } });
    expect(await builder.loadAgentProfile('ops')).toMatchObject({ description: 'user claude ops', source: { tier: 'user' } });
    expect(await builder.loadAgentProfile('general')).toMatchObject({ source: { tier: 'system' } });
    await tree.write('project/.pm/agents/qa.md', profile('qa', 'project pm qa'));
    expect((await builderOf(dirs).loadAgentProfile('qa')).description).toBe('project pm qa'); // .pm before .claude
    await rm(path.join(tree.root, 'project/.pm/agents/qa.md'));
    await rm(path.join(tree.root, 'project/.claude/agents/qa.md'));
    expect((await builderOf(dirs).loadAgentProfile('qa')).description).toBe('user qa');
    // The package's own agent comes last: a system directory does not hide it.
    await rm(path.join(tree.root, 'system/agents/general.md'));
    expect(await builderOf(dirs).loadAgentProfile('general')).toMatchObject({ source: { tier: 'package' } });
  });

  it('takes agentDirs instead of the defaults, relative to the project, and keeps the package fallback', async () => {
    const { dirs } = await setup({ project: { 'agents-collection/reviewer.md': profile('reviewer', 'from a collection') } });
    const builder = builderOf({ ...dirs, agentDirs: ['agents-collection'] });
    expect(await builder.loadAgentProfile('reviewer')).toMatchObject({ description: 'from a collection', source: { tier: 'custom' } });
    expect(await builder.loadAgentProfile('general')).toMatchObject({ source: { tier: 'package' } });
    expect(() => new AgentPromptBuilder({ ...dirs, agentDirs: 'agents' as never })).toThrow(/agentDirs must be a list of directories/);
  });

  it('finds an agent by its name: field and by its file name, dots included', async () => {
    const { dirs } = await setup({
      project: {
        '.claude/agents/lang-python-pro.md': profile('python-pro', 'Python expert'),
        '.claude/agents/dotnet-framework-4.8-expert.md': profile('dotnet-framework-4.8-expert', '.NET 4.8'),
        '.claude/agents/languages/rust-pro.md': profile('rust-pro', 'in a category folder'),
      },
    });
    const builder = builderOf(dirs);
    expect((await builder.loadAgentProfile('python-pro')).description).toBe('Python expert');
    expect((await builder.loadAgentProfile('lang-python-pro')).name).toBe('python-pro');
    expect((await builder.loadAgentProfile('dotnet-framework-4.8-expert')).description).toBe('.NET 4.8');
    expect((await builder.loadAgentProfile('rust-pro')).description).toBe('in a category folder');
    expect((await builder.listAgents()).map((a) => a.name)).toEqual(
      expect.arrayContaining(['python-pro', 'dotnet-framework-4.8-expert', 'rust-pro', 'general']),
    );
  });

  it('caches profiles as agent_profile:<name>:<project>, dropped by invalidateCache(name)', async () => {
    const { tree, dirs } = await setup({ project: { '.pm/agents/qa.md': profile('qa', 'v1') } });
    const cache = new SharedPromptCache();
    const builder = builderOf({ ...dirs, cache });
    await builder.loadAgentProfile('qa');
    await tree.write('project/.pm/agents/qa.md', profile('qa', 'v2'));
    expect((await builder.loadAgentProfile('qa')).description).toBe('v1');
    const entry = cache.getCacheInfo().entries.find((e) => e.key.startsWith('agent_profile:'))!;
    expect(entry.key).toBe(`agent_profile:qa:${dirs.projectDir}`);
    expect(entry.ttlMs).toBe(30 * 60_000);
    expect(await builder.invalidateCache('qa')).toBe(1);
    expect((await builder.loadAgentProfile('qa')).description).toBe('v2');
  });

  it('reports a missing profile with every directory it searched, and a bad one by file, line and field', async () => {
    const { dirs } = await setup({ project: { '.pm/agents/bad.md': '---\nname: bad\ndescription: d\ntools: { read: true }\n---\nbody' } });
    const builder = builderOf(dirs);
    await expect(builder.loadAgentProfile('nobody')).rejects.toBeInstanceOf(ProfileNotFoundError);
    await expect(builder.loadAgentProfile('nobody')).rejects.toThrow(
      /looked in .*project\/\.pm\/agents, .*project\/\.claude\/agents, .*home\/\.pm\/agents/,
    );
    const error = (await builder.loadAgentProfile('bad').catch((e: unknown) => e)) as ProfileError;
    expect(error).toBeInstanceOf(ProfileError);
    expect(error).toMatchObject({ field: 'tools', line: 4 });
    expect(error.message).toMatch(/bad\.md:4: front matter field "tools" must be a list of strings, got a mapping/);
    await expect(builder.loadAgentProfile('../etc/passwd')).rejects.toBeInstanceOf(PromptBuilderError);
  });

  it('rejects unknown front matter fields with strict: true (kept in profile.extra otherwise)', async () => {
    const { dirs } = await setup({ project: { '.pm/agents/qa.md': profile('qa', 'd', 'Body', 'color: blue\n') } });
    expect((await builderOf(dirs).loadAgentProfile('qa')).extra).toEqual({ color: 'blue' });
    await expect(builderOf({ ...dirs, strict: true }).loadAgentProfile('qa')).rejects.toThrow(
      /qa\.md:\d+: front matter field "color" is not a known field/,
    );
  });
});

describe('buildTaskToolPrompt', () => {
  const qa = profile(
    'qa',
    'Finds bugs',
    '# {agent} agent on {project}\n\n{description} ({team})',
    'rules: [Reproduce first, Minimise the case]\ncomponents: [shared/style]\nvariables: { team: core, agent: , project: , description: }\n',
  );

  it('builds a byte-identical prefix for every task of an agent and puts the task in the suffix', async () => {
    const { dirs } = await setup({
      project: { '.pm/agents/qa.md': qa, '.pm/components/shared/style.md': '---\nvariables: [agent]\n---\nWrite for {agent}s.' },
    });
    const builder = builderOf(dirs);
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
    expect(a.prefixTokens).toBe(countTokens(a.prefix));
    expect(Math.abs(a.tokenEstimate - countTokens(a.text))).toBeLessThanOrEqual(1);
    expect(a.sources).toEqual([
      path.join(dirs.projectDir, '.pm/agents/qa.md'),
      path.join(dirs.projectDir, '.pm/components/shared/style.md'),
      path.join(dirs.systemDir, 'components/task.md'),
    ]);
  });

  it('keeps prose byte-for-byte: only declared or caller-provided variables are substituted', async () => {
    const body = [
      'Use `{id}` in routes and f"{user_id}" in Python.',
      'Render {children} in JSX, read ${HOME} and {CLAUDE_PLUGIN_ROOT}/bin, escape \\{x\\} in LaTeX.',
      'This agent is {agent}: declared, so filled in; {agent_id} is not.',
    ].join('\n');
    const { dirs } = await setup({
      project: {
        '.claude/agents/coder.md': `---\nname: coder\ndescription: Codes\nvariables: [agent]\n---\n${body}\n`,
        '.pm/components/task.md': '## Task\n\n{task} for {sprint}, not {id}\n',
      },
    });
    const built = await builderOf(dirs).buildTaskToolPrompt('coder', { task: 'Ship', variables: { sprint: 7 } });
    expect(built.prefix).toBe(`${body.replace('This agent is {agent}', 'This agent is coder')}\n\n`);
    // The project's task template declares nothing: only what the caller passes is filled in.
    expect(built.suffix).toBe('## Task\n\n{task} for 7, not {id}\n');
  });

  it('names a declared variable without a value and the file', async () => {
    const { dirs } = await setup({ project: { '.pm/agents/qa.md': profile('qa', 'd', 'Team {team}', 'variables: [team]\n') } });
    const error = (await builderOf(dirs)
      .buildTaskToolPrompt('qa', { task: 't' })
      .catch((e: unknown) => e)) as TemplateError;
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({ variable: 'team' });
    expect(error.message).toMatch(/project\/\.pm\/agents\/qa\.md: no value for the variable \{team\}/);
  });

  it('caches as task_prompt:<name>:<hash of a stable serialization>, and a new task costs only its suffix', async () => {
    const { dirs } = await setup({ project: { '.pm/agents/qa.md': qa, '.pm/components/shared/style.md': 'x' } });
    const cache = new SharedPromptCache();
    const builder = builderOf({ ...dirs, cache });
    const first = await builder.buildTaskToolPrompt('qa', { task: 't', requirements: ['r'], priority: 'low' });
    const again = await builder.buildTaskToolPrompt('qa', { priority: 'low', requirements: ['r'], task: 't' });
    expect(again).toBe(first);
    const key = `task_prompt:qa:${makeCacheKey(dirs.projectDir, { task: 't', requirements: ['r'], priority: 'low' })}`;
    expect(cache.getSync(key)).toBe(first);
    expect(cache.getCacheInfo().entries.find((e) => e.key === key)!.ttlMs).toBe(10 * 60_000);
    const before = cache.getMetrics().namespaces;
    await builder.buildTaskToolPrompt('qa', { task: 'a new task' });
    const after = cache.getMetrics().namespaces;
    expect(after.prompt_prefix!.hits).toBe(before.prompt_prefix!.hits + 1); // the prefix was not rendered again
    expect(after.agent_profile!.misses).toBe(before.agent_profile!.misses);
  });

  it('uses the same keys in another process', async () => {
    const { dirs } = await setup({ project: { '.pm/agents/qa.md': qa, '.pm/components/shared/style.md': 'x' } });
    const cache = new SharedPromptCache();
    await builderOf({ ...dirs, cache }).buildTaskToolPrompt('qa', { task: 'Ship it', variables: { sprint: 7 } });
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
    const keys = cache
      .getCacheInfo()
      .entries.map((e) => e.key)
      .sort();
    expect(childKeys).toEqual(keys);
    expect(keys.map((k) => k.split(':')[0])).toEqual([
      'agent_profile',
      'prompt_component',
      'prompt_component',
      'prompt_prefix',
      'task_prompt',
    ]);
  });

  it('validates the task context', async () => {
    const { dirs } = await setup();
    const builder = builderOf(dirs);
    await expect(builder.buildTaskToolPrompt('general', { task: '' })).rejects.toThrow(/"task" must be a non-empty string/);
    await expect(builder.buildTaskToolPrompt('general', { task: 'x', requirements: 'all' as never })).rejects.toThrow(
      /"requirements" must be a list of strings/,
    );
    await expect(builder.buildTaskToolPrompt('general', null as never)).rejects.toThrow(/must be an object/);
  });
});

describe('components', () => {
  it('fills what a component declares (from the caller, else its defaults), prefers project components, and names a missing variable', async () => {
    const { dirs } = await setup({
      project: {
        '.pm/components/greeting.md': '---\nvariables: { who: , tone: warm }\n---\nHi {who}, {tone} regards from project, {unrelated}',
      },
      system: { 'components/greeting.md': 'Hi {who} from system', 'components/needs.md': '---\nvariables: [owner]\n---\nOwner: {owner}' },
    });
    const builder = builderOf(dirs);
    expect(await builder.renderComponent('greeting', { who: 'qa' })).toBe('Hi qa, warm regards from project, {unrelated}');
    const error = await builder.renderComponent('needs', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).variable).toBe('owner');
    expect((error as Error).message).toMatch(/system\/components\/needs\.md: no value for the variable \{owner\}/);
  });

  it('rejects component names that could leave their directory', async () => {
    const { dirs } = await setup();
    const builder = builderOf(dirs);
    for (const name of ['../secrets', '/etc/passwd', 'a/../../b', 'a\\b', '', '..'])
      await expect(builder.renderComponent(name)).rejects.toBeInstanceOf(PromptBuilderError);
  });

  it('preloads hot components into the cache, once per component whatever the values it is rendered with', async () => {
    const { dirs } = await setup({ project: { '.pm/components/hot.md': '---\nvariables: [n]\n---\nHot {n}' } });
    const cache = new SharedPromptCache();
    const builder = builderOf({ ...dirs, cache });
    await builder.preloadComponents([{ name: 'hot' }]);
    expect(cache.getMetrics().namespaces.prompt_component).toMatchObject({ entryCount: 1, misses: 1 });
    expect(await builder.renderComponent('hot', { n: '1' })).toBe('Hot 1');
    expect(await builder.renderComponent('hot', { n: '2' })).toBe('Hot 2');
    expect(cache.getMetrics().namespaces.prompt_component).toMatchObject({ entryCount: 1, misses: 1, hits: 2 });
  });
});

describe('watch()', () => {
  const watching = async (builder: AgentPromptBuilder) => {
    builder.watch();
    await builder.watching();
  };

  it('serves an edited, an added (shadowing) and a removed profile fresh, not after its TTL', async () => {
    const { tree, dirs } = await setup({
      project: { '.pm/agents/qa.md': profile('qa', 'v1') },
      user: { '.pm/agents/ops.md': profile('ops', 'user ops') },
    });
    const cache = new SharedPromptCache();
    const builder = builderOf({ ...dirs, cache });
    await watching(builder);
    const changes: string[] = [];
    builder.onChange((c) => changes.push(`${c.kind}:${c.event}:${c.names.join('/')}`));
    expect((await builder.buildTaskToolPrompt('qa', { task: 't' })).prefix).toContain('You are qa');
    await tree.write('project/.pm/agents/qa.md', profile('qa', 'v2', 'You are the new qa.'));
    await vi.waitFor(
      async () => {
        expect((await builder.buildTaskToolPrompt('qa', { task: 't' })).prefix).toContain('the new qa');
      },
      { timeout: 2000, interval: 5 },
    );
    expect((await builder.loadAgentProfile('ops')).description).toBe('user ops');
    // A project file under another name whose name: field shadows the user's ops.
    await tree.write('project/.claude/agents/team-ops.md', profile('ops', 'project ops'));
    await vi.waitFor(
      async () => {
        expect((await builder.loadAgentProfile('ops')).description).toBe('project ops');
      },
      { timeout: 2000, interval: 5 },
    );
    await rm(path.join(tree.root, 'project/.claude/agents/team-ops.md'));
    await vi.waitFor(
      async () => {
        expect((await builder.loadAgentProfile('ops')).description).toBe('user ops');
      },
      { timeout: 2000, interval: 5 },
    );
    expect(changes).toEqual(expect.arrayContaining(['profile:change:qa', 'profile:add:team-ops/ops', 'profile:unlink:team-ops']));
  });

  it('serves every one of 20 back-to-back in-place edits, each read while the next is written', async () => {
    const { tree, dirs } = await setup({ project: { '.pm/agents/qa.md': profile('qa', 'v0') } });
    const builder = builderOf({ ...dirs, cache: new SharedPromptCache() });
    await watching(builder);
    for (let version = 1; version <= 20; version++) {
      await builder.loadAgentProfile('qa'); // cached, so only the watcher can make it fresh
      // writeFile truncates, then writes: the first change event can come before the content.
      await tree.write('project/.pm/agents/qa.md', profile('qa', `v${version}`));
      await vi.waitFor(
        async () => {
          expect((await builder.loadAgentProfile('qa')).description).toBe(`v${version}`);
        },
        { timeout: 2000, interval: 1 },
      );
    }
  });

  it('drops exactly the entries built from an edited component, and keeps the rest', async () => {
    const { tree, dirs } = await setup({
      project: {
        '.pm/agents/qa.md': profile('qa', 'd', 'Body', 'components: [shared/style]\n'),
        '.pm/agents/ops.md': profile('ops', 'd', 'Body', 'components: [shared/other]\n'),
        '.pm/components/shared/style.md': 'Style v1',
        '.pm/components/shared/other.md': 'Other v1',
      },
    });
    const cache = new SharedPromptCache();
    const builder = builderOf({ ...dirs, cache });
    await watching(builder);
    await builder.buildTaskToolPrompt('qa', { task: 't' });
    const ops = await builder.buildTaskToolPrompt('ops', { task: 't' });
    await tree.write('project/.pm/components/shared/style.md', 'Style v2');
    await vi.waitFor(
      async () => {
        expect((await builder.buildTaskToolPrompt('qa', { task: 't' })).prefix).toContain('Style v2');
      },
      { timeout: 2000, interval: 5 },
    );
    expect(await builder.buildTaskToolPrompt('ops', { task: 't' })).toBe(ops); // untouched: the same cached object
  });

  it('picks up agent and component directories created after watch() started', async () => {
    const { tree, dirs } = await setup({ project: { '.pm/agents/qa.md': profile('qa', 'd', 'Body', 'components: [shared/style]\n') } });
    await mkdir(path.join(dirs.projectDir, '.pm/components'), { recursive: true });
    const cache = new SharedPromptCache();
    const builder = builderOf({ ...dirs, cache });
    await watching(builder);
    await expect(builder.buildTaskToolPrompt('qa', { task: 't' })).rejects.toThrow(/no component "shared\/style"/);
    expect((await builder.loadAgentProfile('general')).source.tier).toBe('system');
    await tree.write('project/.pm/components/shared/style.md', 'Style, in a folder made after watch()');
    await tree.write('project/.claude/agents/general.md', profile('general', 'the project now has its own'));
    await vi.waitFor(
      async () => {
        expect((await builder.buildTaskToolPrompt('qa', { task: 't' })).prefix).toContain('made after watch()');
      },
      { timeout: 3000, interval: 10 },
    );
    await vi.waitFor(
      async () => {
        expect((await builder.loadAgentProfile('general')).description).toBe('the project now has its own');
      },
      { timeout: 3000, interval: 10 },
    );
  });
});

describe('without a cache', () => {
  it('works uncached, and says so once', async () => {
    const { tree, dirs } = await setup({ project: { '.pm/agents/qa.md': profile('qa', 'v1') } });
    const logger = quietLogger();
    const builder = builderOf({ ...dirs, logger });
    await builder.loadAgentProfile('qa');
    await tree.write('project/.pm/agents/qa.md', profile('qa', 'v2'));
    expect((await builder.loadAgentProfile('qa')).description).toBe('v2');
    expect(await builder.invalidateCache()).toBe(0);
    expect(logger.warnings).toHaveLength(1);
  });
});
