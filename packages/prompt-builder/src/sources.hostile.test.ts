/** Prompt sources in a hostile project: symlinks planted to secrets, prompts too big to cache. */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SharedPromptCache } from '@pm/cache-core';
import { canTestPermissions, OTHER_USER, WITHOUT_FILE_CAPABILITIES } from '@pm/cache-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentPromptBuilder } from './agent-prompt-builder.js';
import { PromptBuilderError } from './errors.js';

const run = promisify(execFile);

let root: string;
let projectDir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pm-hostile-src-'));
  projectDir = path.join(root, 'project');
  await mkdir(path.join(projectDir, '.pm/agents'), { recursive: true });
  await mkdir(path.join(projectDir, '.pm/components'), { recursive: true });
  await mkdir(path.join(root, 'home/.aws'), { recursive: true });
  await writeFile(path.join(root, 'home/.aws/credentials'), '[default]\naws_secret_access_key = AKIA-THE-SECRET\n');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const profile = (components: string[]) =>
  `---\nname: engineer\ndescription: Builds things.\ncomponents: [${components.join(', ')}]\n---\n# engineer\n\nYou build things.\n`;

describe('prompt sources never follow a symlink out of their directory', () => {
  it('refuses a component linked to ~/.aws/credentials: the build fails, the secret reaches no prompt', async () => {
    await writeFile(path.join(projectDir, '.pm/agents/engineer.md'), profile(['context']));
    await symlink(path.join(root, 'home/.aws/credentials'), path.join(projectDir, '.pm/components/context.md'));
    const builder = new AgentPromptBuilder({ projectDir, userDir: path.join(root, 'home'), cache: new SharedPromptCache() });
    const error = await builder.buildTaskToolPrompt('engineer', { task: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PromptBuilderError);
    expect(error).toMatchObject({ code: 'E_UNSAFE_SOURCE' });
    expect((error as Error).message).toMatch(/context\.md leads outside .*components/);
    expect((error as Error).message).not.toContain('AKIA-THE-SECRET');
  });

  it('refuses a profile linked outside its directory, and a directory link inside it that leads out', async () => {
    await writeFile(path.join(root, 'elsewhere.md'), profile([]));
    await symlink(path.join(root, 'elsewhere.md'), path.join(projectDir, '.pm/agents/engineer.md'));
    const builder = new AgentPromptBuilder({ projectDir, userDir: path.join(root, 'home') });
    await expect(builder.loadAgentProfile('engineer')).rejects.toMatchObject({ code: 'E_UNSAFE_SOURCE' });
    await mkdir(path.join(root, 'home/.secrets'));
    await writeFile(path.join(root, 'home/.secrets/token.md'), 'ghp_THE_TOKEN');
    await symlink(path.join(root, 'home/.secrets'), path.join(projectDir, '.pm/components/shared'));
    await expect(builder.renderComponent('shared/token')).rejects.toThrow(/leads outside/);
  });

  it('follows links that stay inside, and a profile directory that is itself a link (a dotfiles repository)', async () => {
    const dotfiles = path.join(root, 'dotfiles/agents');
    await mkdir(dotfiles, { recursive: true });
    await writeFile(path.join(dotfiles, 'engineer.md'), profile(['rules']));
    await writeFile(path.join(dotfiles, 'reviewer-v2.md'), profile([]).replace('name: engineer', 'name: reviewer'));
    await symlink(path.join(dotfiles, 'reviewer-v2.md'), path.join(dotfiles, 'reviewer.md'));
    await rm(path.join(projectDir, '.pm/agents'), { recursive: true });
    await symlink(dotfiles, path.join(projectDir, '.pm/agents'));
    await writeFile(path.join(projectDir, '.pm/components/rules.md'), 'Be careful.\n');
    const builder = new AgentPromptBuilder({ projectDir, userDir: path.join(root, 'home') });
    expect((await builder.buildTaskToolPrompt('engineer', { task: 'x' })).prefix).toContain('Be careful.');
    expect((await builder.loadAgentProfile('reviewer')).name).toBe('reviewer');
  });
});

describe('files this process may not read', () => {
  // Root reads everything: the builder runs without the capabilities that bypass file
  // permissions, against a profile that another user keeps 0600.
  it.runIf(canTestPermissions)(
    'names an unreadable profile in a typed error, and still lists and builds the readable ones',
    async () => {
      await writeFile(path.join(projectDir, '.pm/agents/engineer.md'), profile([]));
      const secret = path.join(projectDir, '.pm/agents/private.md');
      await writeFile(secret, profile([]).replace('name: engineer', 'name: private'));
      await chmod(secret, 0o600);
      await chown(secret, OTHER_USER.uid, OTHER_USER.gid);
      const script = `
        const { AgentPromptBuilder } = await import(${JSON.stringify(new URL('./index.ts', import.meta.url).href)});
        const builder = new AgentPromptBuilder({ projectDir: process.argv[1], userDir: process.argv[2] });
        const agents = (await builder.listAgents()).map((a) => a.name);
        const built = (await builder.buildTaskToolPrompt('engineer', { task: 'x' })).prefix.includes('You build things.');
        const error = await builder.loadAgentProfile('private').then(() => 'loaded', (e) => e.name + ' ' + e.code + ' ' + e.message);
        console.log(JSON.stringify({ agents, built, error }));
      `;
      const tsx = createRequire(import.meta.url).resolve('tsx');
      const [setpriv, ...drop] = WITHOUT_FILE_CAPABILITIES;
      const { stdout } = await run(
        setpriv,
        [...drop, process.execPath, '--import', tsx, '--input-type=module', '-e', script, projectDir, path.join(root, 'home')],
        { env: { ...process.env, TSX_DISABLE_CACHE: '1' } },
      );
      const result = JSON.parse(stdout) as { agents: string[]; built: boolean; error: string };
      expect(result.agents).toEqual(expect.arrayContaining(['engineer', 'private']));
      expect(result.built).toBe(true);
      expect(result.error).toMatch(/^PromptBuilderError E_UNREADABLE_SOURCE \[prompt-builder\] cannot read .*private\.md: EACCES$/);
    },
    30_000,
  );
});

describe('a prompt too large to cache', () => {
  it('is built once for 50 concurrent callers, not once per caller', async () => {
    await writeFile(path.join(projectDir, '.pm/agents/engineer.md'), profile(['huge']));
    await writeFile(path.join(projectDir, '.pm/components/huge.md'), 'context '.repeat(20_000));
    const cache = new SharedPromptCache({ maxMemoryMb: 0.05 });
    const builder = new AgentPromptBuilder({ projectDir, userDir: path.join(root, 'home'), cache });
    const prompts = await Promise.all(Array.from({ length: 50 }, () => builder.buildTaskToolPrompt('engineer', { task: 'same task' })));
    expect(new Set(prompts.map((p) => p.text)).size).toBe(1);
    // Three values were too large to keep — the component, the prefix and the prompt — each built
    // once and handed to all 50 callers (before, every caller built its own: 51 builds).
    expect(cache.getMetrics().uncacheable).toBe(3);
  });
});
