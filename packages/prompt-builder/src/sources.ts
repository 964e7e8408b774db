import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComponentNotFoundError, ProfileNotFoundError, PromptBuilderError } from './errors.js';
import type { ProfileTier } from './profile.js';

export interface SourceDirectoryOptions {
  /** The project; its `.pm/agents` and `.pm/components` come first. @default process.cwd() */
  projectDir?: string;
  /** Whose `.pm/agents` and `.pm/components` come second. @default the user's home directory */
  userDir?: string;
  /** Holds `agents/` and `components/` shipped with the package; searched last. */
  systemDir?: string;
}

interface Directory {
  dir: string;
  tier: ProfileTier;
}

/** This package's root (`src/` and `dist/` both sit one level below it). */
const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
const AGENT_NAME = /^[a-z0-9][a-z0-9_-]*$/i;
const COMPONENT_NAME = /^[\w-]+(?:\/[\w-]+)*$/;

/** The profile and component directories, in precedence order: project, user, system. */
export class SourceDirectories {
  readonly projectDir: string;
  readonly agents: readonly Directory[];
  readonly components: readonly Directory[];

  constructor(options: SourceDirectoryOptions = {}) {
    this.projectDir = path.resolve(options.projectDir ?? process.cwd());
    const userDir = path.resolve(options.userDir ?? homedir());
    const systemDir = path.resolve(options.systemDir ?? PACKAGE_ROOT);
    const tiers: [string, ProfileTier][] = [
      [path.join(this.projectDir, '.pm'), 'project'],
      [path.join(userDir, '.pm'), 'user'],
      [systemDir, 'system'],
    ];
    this.agents = tiers.map(([dir, tier]) => ({ dir: path.join(dir, 'agents'), tier }));
    this.components = tiers.map(([dir, tier]) => ({ dir: path.join(dir, 'components'), tier }));
  }

  /** The highest-precedence file for agent `name`. */
  async findProfile(name: string): Promise<{ path: string; tier: ProfileTier }> {
    assertAgentName(name);
    const found = await firstExisting(this.agents, `${name}.md`);
    if (found === undefined) throw new ProfileNotFoundError(name, this.agents.map((d) => d.dir));
    return found;
  }

  /** The highest-precedence file for component `name` (`shared/rules` is `shared/rules.md`). */
  async findComponent(name: string): Promise<{ path: string; tier: ProfileTier }> {
    assertComponentName(name);
    const found = await firstExisting(this.components, `${name}.md`);
    if (found === undefined) throw new ComponentNotFoundError(name, this.components.map((d) => d.dir));
    return found;
  }
}

async function firstExisting(directories: readonly Directory[], file: string): Promise<{ path: string; tier: ProfileTier } | undefined> {
  for (const { dir, tier } of directories) {
    const candidate = path.join(dir, file);
    try {
      await access(candidate);
      return { path: candidate, tier };
    } catch {
      // not in this tier; try the next
    }
  }
  return undefined;
}

export function assertAgentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !AGENT_NAME.test(name)) {
    throw new PromptBuilderError(`agent names are letters, digits, "-" and "_", got ${JSON.stringify(name)}`);
  }
}

/** Component names are relative paths without `..`: a name can never reach outside its directory. */
export function assertComponentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !COMPONENT_NAME.test(name)) {
    throw new PromptBuilderError(`component names are relative paths of letters, digits, "-" and "_" (like "shared/rules"), got ${JSON.stringify(name)}`);
  }
}
