import { readFile, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComponentNotFoundError, PromptBuilderError } from './errors.js';
import type { ProfileTier } from './profile.js';

export interface SourceDirectoryOptions {
  /** The project. @default process.cwd() */
  projectDir?: string;
  /** Whose agents and components come after the project's. @default the user's home directory */
  userDir?: string;
  /** An organisation's `agents/` and `components/` (a shared collection), searched after the user's. */
  systemDir?: string;
  /**
   * Where agent profiles are looked for, highest precedence first (relative paths are relative to
   * the project). The package's own agents always come last.
   * @default ['<project>/.pm/agents', '<project>/.claude/agents', '~/.pm/agents', '~/.claude/agents', '<systemDir>/agents']
   */
  agentDirs?: readonly string[];
  /**
   * Where components are looked for, highest precedence first. The package's own components
   * (the `task` template among them) always come last, so a build never lacks them.
   * @default ['<project>/.pm/components', '~/.pm/components', '<systemDir>/components']
   */
  componentDirs?: readonly string[];
}

/** A source directory and the tier it belongs to. */
export interface SourceDirectory {
  readonly dir: string;
  readonly tier: ProfileTier;
}

/** A prompt source file and what it holds. */
export interface SourceFile {
  path: string;
  tier: ProfileTier;
  text: string;
}

/** This package's root (`src/` and `dist/` both sit one level below it). */
const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPONENT_NAME = /^[\w.-]+(?:\/[\w.-]+)*$/;

/** The profile and component directories, in precedence order. */
export class SourceDirectories {
  readonly projectDir: string;
  readonly agents: readonly SourceDirectory[];
  readonly components: readonly SourceDirectory[];

  constructor(options: SourceDirectoryOptions = {}) {
    this.projectDir = path.resolve(options.projectDir ?? process.cwd());
    const userDir = path.resolve(options.userDir ?? homedir());
    const systemDir = options.systemDir === undefined ? undefined : path.resolve(options.systemDir);
    const custom = (dirs: readonly string[], kind: string): SourceDirectory[] => {
      const input: unknown = dirs;
      if (!Array.isArray(input) || !input.every((dir) => typeof dir === 'string' && dir !== ''))
        throw new PromptBuilderError(`${kind} must be a list of directories`);
      return dirs.map((dir) => ({ dir: path.resolve(this.projectDir, dir), tier: 'custom' as const }));
    };
    const system = (sub: string): SourceDirectory[] =>
      systemDir === undefined ? [] : [{ dir: path.join(systemDir, sub), tier: 'system' }];
    this.agents = [
      ...(options.agentDirs === undefined
        ? [
            { dir: path.join(this.projectDir, '.pm', 'agents'), tier: 'project' as const },
            { dir: path.join(this.projectDir, '.claude', 'agents'), tier: 'project' as const },
            { dir: path.join(userDir, '.pm', 'agents'), tier: 'user' as const },
            { dir: path.join(userDir, '.claude', 'agents'), tier: 'user' as const },
            ...system('agents'),
          ]
        : custom(options.agentDirs, 'agentDirs')),
      { dir: path.join(PACKAGE_ROOT, 'agents'), tier: 'package' },
    ];
    this.components = [
      ...(options.componentDirs === undefined
        ? [
            { dir: path.join(this.projectDir, '.pm', 'components'), tier: 'project' as const },
            { dir: path.join(userDir, '.pm', 'components'), tier: 'user' as const },
            ...system('components'),
          ]
        : custom(options.componentDirs, 'componentDirs')),
      { dir: path.join(PACKAGE_ROOT, 'components'), tier: 'package' },
    ];
  }

  /** The highest-precedence file for component `name` (`shared/rules` is `shared/rules.md`), read. */
  async readComponent(name: string): Promise<SourceFile> {
    assertComponentName(name);
    for (const { dir, tier } of this.components) {
      const text = await readInside(dir, `${name}.md`);
      if (text !== undefined) return { path: path.join(dir, `${name}.md`), tier, text };
    }
    throw new ComponentNotFoundError(
      name,
      this.components.map((d) => d.dir),
    );
  }
}

const missing = (error: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/**
 * Reads `file` under `dir`, following symlinks only while they stay inside `dir` (the
 * directory itself may be a link, to a dotfiles repository say). A link that leads outside is
 * an error and is never read: a secret linked into `.pm/components` never reaches a prompt.
 * Undefined when the file does not exist there.
 */
export async function readInside(dir: string, file: string): Promise<string | undefined> {
  const candidate = path.join(dir, file);
  let real: string;
  let root: string;
  try {
    [real, root] = await Promise.all([realpath(candidate), realpath(dir)]);
  } catch (error) {
    if (missing(error)) return undefined;
    throw new PromptBuilderError(`cannot read ${candidate}: ${(error as Error).message}`, { cause: error, code: 'E_UNREADABLE_SOURCE' });
  }
  if (!real.startsWith(root + path.sep)) {
    throw new PromptBuilderError(
      `${candidate} leads outside ${dir} (to ${real}); prompt sources are only read from inside their directories`,
      {
        code: 'E_UNSAFE_SOURCE',
      },
    );
  }
  try {
    if (!(await stat(real)).isFile()) return undefined;
    return await readFile(real, 'utf8');
  } catch (error) {
    if (missing(error)) return undefined;
    // A file this process may not read (another user's 0600, say): named, never a bare EACCES.
    throw new PromptBuilderError(`cannot read ${candidate}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      cause: error,
      code: 'E_UNREADABLE_SOURCE',
    });
  }
}

/** Agent names are what files and `name:` fields hold: any text without a path separator or NUL. */
export function assertAgentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200 || /[/\\\0]/.test(name) || name === '.' || name === '..') {
    throw new PromptBuilderError(`an agent name is a non-empty name without "/", "\\" or NUL, got ${JSON.stringify(name)}`);
  }
}

/** Component names are relative paths without `..`: a name can never reach outside its directory. */
export function assertComponentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !COMPONENT_NAME.test(name) || name.split('/').some((part) => part === '.' || part === '..')) {
    throw new PromptBuilderError(
      `component names are relative paths of letters, digits, ".", "-" and "_" (like "shared/rules"), got ${JSON.stringify(name)}`,
    );
  }
}
