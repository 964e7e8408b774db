import { readFile, realpath, stat } from 'node:fs/promises';
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

  /** The highest-precedence file for agent `name`, read. */
  async readProfile(name: string): Promise<SourceFile> {
    assertAgentName(name);
    const found = await firstInside(this.agents, `${name}.md`);
    if (found === undefined)
      throw new ProfileNotFoundError(
        name,
        this.agents.map((d) => d.dir),
      );
    return found;
  }

  /** The highest-precedence file for component `name` (`shared/rules` is `shared/rules.md`), read. */
  async readComponent(name: string): Promise<SourceFile> {
    assertComponentName(name);
    const found = await firstInside(this.components, `${name}.md`);
    if (found === undefined)
      throw new ComponentNotFoundError(
        name,
        this.components.map((d) => d.dir),
      );
    return found;
  }
}

/** A prompt source file and what it holds. */
export interface SourceFile {
  path: string;
  tier: ProfileTier;
  text: string;
}

async function firstInside(directories: readonly Directory[], file: string): Promise<SourceFile | undefined> {
  for (const { dir, tier } of directories) {
    const text = await readInside(dir, file);
    if (text !== undefined) return { path: path.join(dir, file), tier, text };
  }
  return undefined;
}

const missing = (error: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/**
 * Reads `file` under `dir`, following symlinks only while they stay inside `dir` (the
 * directory itself may be a link, to a dotfiles repository say). A link that leads outside is
 * an error and is never read: a secret linked into `.pm/components` never reaches a prompt.
 * Undefined when the file does not exist there.
 */
async function readInside(dir: string, file: string): Promise<string | undefined> {
  const candidate = path.join(dir, file);
  let real: string;
  let root: string;
  try {
    [real, root] = await Promise.all([realpath(candidate), realpath(dir)]);
  } catch (error) {
    if (missing(error)) return undefined;
    throw new PromptBuilderError(`cannot read ${candidate}: ${(error as Error).message}`, { cause: error });
  }
  if (!real.startsWith(root + path.sep)) {
    throw new PromptBuilderError(
      `${candidate} leads outside ${dir} (to ${real}); prompt sources are only read from inside their directories`,
      { code: 'E_UNSAFE_SOURCE' },
    );
  }
  if (!(await stat(real)).isFile()) return undefined;
  return readFile(real, 'utf8');
}

export function assertAgentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !AGENT_NAME.test(name)) {
    throw new PromptBuilderError(`agent names are letters, digits, "-" and "_", got ${JSON.stringify(name)}`);
  }
}

/** Component names are relative paths without `..`: a name can never reach outside its directory. */
export function assertComponentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !COMPONENT_NAME.test(name)) {
    throw new PromptBuilderError(
      `component names are relative paths of letters, digits, "-" and "_" (like "shared/rules"), got ${JSON.stringify(name)}`,
    );
  }
}
