/**
 * Agent definitions as people publish them — Claude Code subagents, the collections built on
 * that format, plain Markdown role files of older frameworks — load as they are, and their prose
 * reaches the prompt byte-for-byte.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SharedPromptCache } from '@pm/cache-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentPromptBuilder } from './agent-prompt-builder.js';
import { corpus } from './fixtures/corpus.js';
import { splitFrontMatter } from './front-matter.js';

const fixtures = fileURLToPath(new URL('./fixtures/real-world', import.meta.url));
let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pm-real-world-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A project whose .claude/agents holds `files`, and a builder with no configuration but the project. */
async function projectWith(copyFrom: string): Promise<AgentPromptBuilder> {
  const projectDir = path.join(root, `project-${Math.random().toString(36).slice(2)}`);
  await mkdir(path.join(projectDir, '.claude'), { recursive: true });
  await cp(copyFrom, path.join(projectDir, '.claude', 'agents'), { recursive: true });
  return new AgentPromptBuilder({ projectDir, userDir: path.join(root, 'empty-home'), cache: new SharedPromptCache({ maxEntries: 5000 }) });
}

describe('published agent definitions', () => {
  it('builds a prompt for every agent in .claude/agents, with no configuration', async () => {
    const builder = await projectWith(fixtures);
    const agents = (await builder.listAgents()).filter((a) => a.tier === 'project');
    expect(agents.map((a) => a.name).sort()).toEqual(
      [
        'backend-architect',
        'bom-agent',
        'code-reviewer',
        'data-scientist',
        'dotnet-framework-4.8-expert',
        'haiku-triager',
        'mcp-expert',
        'mustache-user',
        'no-trailing-newline',
        'plugin-helper',
        'powershell-5.1-expert',
        'product-manager',
        'python-pro',
        'qa_engineer',
        'rapid-prototyper',
        'react-specialist',
        'release-manager',
        'security-guardian',
        'senior-engineer',
        'terraform-engineer',
        'test-writer-fixer',
        'ui-designer',
        'windows-admin',
      ].sort(),
    ); // README.md is documentation, not an agent
    for (const agent of agents) {
      const built = await builder.buildTaskToolPrompt(agent.name, { task: 'Review the latest change' });
      const raw = await readFile(agent.path, 'utf8');
      // No profile here declares a variable: its body is the prefix, byte-for-byte.
      expect(built.prefix, agent.name).toBe(`${splitFrontMatter(raw).body.trim()}\n\n`);
      expect(built.prefix, agent.name).not.toContain('<example>');
    }
  });

  it('reads each field as the format means it', async () => {
    const builder = await projectWith(fixtures);
    expect(await builder.loadAgentProfile('code-reviewer')).toMatchObject({ tools: ['Read', 'Grep', 'Glob', 'Bash'], model: 'inherit' });
    expect(await builder.loadAgentProfile('python-pro')).toMatchObject({
      name: 'python-pro',
      source: { path: expect.stringMatching(/lang-python-pro\.md$/) as string },
    });
    expect((await builder.loadAgentProfile('lang-python-pro')).name).toBe('python-pro');
    expect(await builder.loadAgentProfile('data-scientist')).toMatchObject({
      version: '1.10',
      extra: { schema_version: 2, author: 'Data Platform Team <data@example.com>', tags: ['ml', 'sql', 'bigquery'] },
    });
    expect(await builder.loadAgentProfile('rapid-prototyper')).toMatchObject({
      tools: ['Write', 'MultiEdit', 'Bash', 'Read'],
      extra: { color: 'green' },
    });
    expect((await builder.loadAgentProfile('rapid-prototyper')).description).toContain('<example>');
    const guardian = await builder.loadAgentProfile('security-guardian');
    expect(guardian).toMatchObject({ tools: ['Write', 'Read', 'MultiEdit', 'Bash', 'Grep'], extra: { color: 'red' } });
    expect(guardian.description).toContain('user: "Store the card numbers for later"');
    expect(await builder.loadAgentProfile('ui-designer')).toMatchObject({ tools: [], model: 'opus' });
    expect(await builder.loadAgentProfile('haiku-triager')).toMatchObject({ tools: ['*'], model: 'haiku' });
    expect(await builder.loadAgentProfile('release-manager')).toMatchObject({
      model: 'claude-sonnet-4-5-20250929',
      tools: ['Read', 'Bash(git:*)', 'Bash(npm version:*)'],
      extra: { permissionMode: 'acceptEdits' },
    });
    expect((await builder.loadAgentProfile('mcp-expert')).extra).toMatchObject({ mcpServers: { github: { command: 'npx' } } });
    expect(await builder.loadAgentProfile('product-manager')).toMatchObject({
      name: 'product-manager',
      description: 'You are the product manager of the team. You turn requests into small, testable stories and say no to scope creep.',
      source: { format: 'plain' },
    });
    expect((await builder.loadAgentProfile('qa_engineer')).description).toMatch(/^You find the bugs/);
    expect((await builder.loadAgentProfile('windows-admin')).body).toBe(
      'You administer Windows Server. Paths look like `C:\\Users\\{user}\\AppData`.',
    );
    expect((await builder.loadAgentProfile('senior-engineer')).name).toBe('senior-engineer');
  });

  it('loads and builds every agent of a generated corpus of 240 definitions in the published shapes', async () => {
    const files = corpus(240);
    const dir = path.join(root, 'corpus');
    for (const { file, text } of files) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    const builder = new AgentPromptBuilder({
      projectDir: root,
      userDir: path.join(root, 'empty-home'),
      agentDirs: [dir],
      cache: new SharedPromptCache({ maxEntries: 5000 }),
    });
    let loaded = 0;
    let built = 0;
    let verbatim = 0;
    for (const file of files) {
      const profile = await builder.loadAgentProfile(file.name);
      loaded++;
      const prompt = await builder.buildTaskToolPrompt(file.name, { task: `Task for ${file.name}` });
      built++;
      if (!file.declaresVariables && prompt.prefix === `${file.body.trim()}\n\n`) verbatim++;
      expect(profile.name).toBe(file.name);
    }
    expect({ loaded, built }).toEqual({ loaded: 240, built: 240 });
    expect(verbatim).toBe(files.filter((f) => !f.declaresVariables).length);
    expect((await builder.listAgents()).filter((a) => a.tier === 'custom')).toHaveLength(240);
  }, 30_000);
});
